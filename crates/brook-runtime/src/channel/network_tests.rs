//! Typed channels between two data planes over real loopback TCP.

use super::{ChannelWriter, Credits, InputGate, NetworkChannelWriter, register_remote_channels};
use brook_network::{ChannelId, NetworkConfig, NetworkEnvironment};
use brook_types::{CheckpointBarrier, CheckpointId, JobId, StreamElement, StreamRecord, VertexId, Watermark};
use std::future::poll_fn;
use std::time::Duration;

fn id(vertex: u128, channel: u32) -> ChannelId {
    ChannelId { job: JobId(1), vertex: VertexId(vertex), subtask: 0, input: 0, channel, attempt: 3 }
}

fn batch(values: &[&str]) -> StreamElement<String> {
    StreamElement::Records(values.iter().map(|v| StreamRecord::with_timestamp(v.to_string(), 7)).collect())
}

async fn send(w: &mut NetworkChannelWriter<String>, element: StreamElement<String>) {
    if matches!(element, StreamElement::Records(_)) {
        poll_fn(|cx| w.poll_ready(cx)).await.expect("open channel");
    }
    w.send(element).expect("open channel");
}

async fn next(gate: &mut InputGate<String>) -> (usize, String) {
    let (c, e) = tokio::time::timeout(Duration::from_secs(10), poll_fn(|cx| gate.poll_next(cx)))
        .await
        .expect("an element arrives within 10 s");
    (c, describe(e))
}

fn describe(e: StreamElement<String>) -> String {
    match e {
        StreamElement::Records(r) => {
            r.iter().map(|r| format!("{}@{}", r.value, r.timestamp)).collect::<Vec<_>>().join(",")
        }
        StreamElement::Watermark(w) => format!("watermark {}", w.0),
        StreamElement::Barrier(b) => format!("barrier {}", b.id.0),
        other => other.kind().to_string(),
    }
}

fn unaligned(id: u64) -> StreamElement<String> {
    StreamElement::Barrier(CheckpointBarrier {
        id: CheckpointId(id),
        timestamp: 0,
        is_savepoint: false,
        unaligned: true,
    })
}

async fn env() -> NetworkEnvironment {
    NetworkEnvironment::start(NetworkConfig::default()).await.expect("loopback has free ports")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_elements_of_several_channels_cross_in_both_directions_in_order() {
    let (a, b) = (env().await, env().await);
    let credits = Credits { exclusive_per_channel: 2, floating_per_gate: 1 };
    let (mut gate_b, handle_b) = InputGate::<String>::new(2, credits);
    register_remote_channels(&handle_b, &b, vec![id(1, 0), id(1, 1)], 2, 1).unwrap();
    let (mut gate_a, handle_a) = InputGate::<String>::new(1, credits);
    register_remote_channels(&handle_a, &a, vec![id(2, 0)], 2, 1).unwrap();
    let mut a0 = NetworkChannelWriter::<String>::open(&a, b.address(), id(1, 0)).unwrap();
    let mut a1 = NetworkChannelWriter::<String>::open(&a, b.address(), id(1, 1)).unwrap();
    let mut b0 = NetworkChannelWriter::<String>::open(&b, a.address(), id(2, 0)).unwrap();
    let producer = tokio::spawn(async move {
        for i in 0..50 {
            send(&mut a0, batch(&[&format!("x{i}"), &format!("y{i}")])).await;
            send(&mut a1, batch(&[&format!("z{i}")])).await;
        }
        for w in [&mut a0, &mut a1] {
            send(w, StreamElement::Watermark(Watermark(100))).await;
            send(w, StreamElement::EndOfInput).await;
        }
    });
    let back_producer = tokio::spawn(async move {
        for i in 0..50 {
            send(&mut b0, batch(&[&format!("back{i}")])).await;
        }
        send(&mut b0, StreamElement::EndOfInput).await;
    });
    let back_consumer = tokio::spawn(async move {
        let mut back = Vec::new();
        for _ in 0..51 {
            back.push(next(&mut gate_a).await.1);
        }
        back
    });
    let mut per_channel = [Vec::new(), Vec::new()];
    for _ in 0..104 {
        let (c, e) = next(&mut gate_b).await;
        per_channel[c].push(e);
    }
    let mut expected0: Vec<String> = (0..50).map(|i| format!("x{i}@7,y{i}@7")).collect();
    expected0.extend(["watermark 100".to_string(), "end of input".to_string()]);
    let mut expected1: Vec<String> = (0..50).map(|i| format!("z{i}@7")).collect();
    expected1.extend(["watermark 100".to_string(), "end of input".to_string()]);
    assert_eq!(per_channel, [expected0, expected1]);
    let mut expected: Vec<String> = (0..50).map(|i| format!("back{i}@7")).collect();
    expected.push("end of input".into());
    assert_eq!(back_consumer.await.unwrap(), expected);
    back_producer.await.unwrap();
    producer.await.unwrap();
    assert_eq!(gate_b.queued_buffers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unaligned_barrier_overtakes_data_queued_in_the_receiving_gate() {
    let (a, b) = (env().await, env().await);
    let (mut gate, handle) = InputGate::<String>::new(1, Credits { exclusive_per_channel: 3, floating_per_gate: 0 });
    register_remote_channels(&handle, &b, vec![id(1, 0)], 3, 0).unwrap();
    let mut w = NetworkChannelWriter::<String>::open(&a, b.address(), id(1, 0)).unwrap();
    send(&mut w, batch(&["a"])).await;
    send(&mut w, batch(&["b"])).await;
    send(&mut w, unaligned(4)).await;
    send(&mut w, batch(&["c"])).await;
    // Wait until all four arrived, then read: the barrier comes first.
    tokio::time::timeout(Duration::from_secs(10), async {
        while gate.queued_buffers() < 3 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(next(&mut gate).await, (0, "barrier 4".into()));
    assert_eq!(gate.overtaken(0), 2);
    assert_eq!(next(&mut gate).await, (0, "a@7".into()));
    assert_eq!(next(&mut gate).await, (0, "b@7".into()));
    assert_eq!(next(&mut gate).await, (0, "c@7".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_connection_fails_the_receiving_gate_and_the_sender_with_the_peer_address() {
    let (a, b) = (env().await, env().await);
    let a_address = a.address().to_string();
    let (mut gate, handle) = InputGate::<String>::new(1, Credits::default());
    register_remote_channels(&handle, &b, vec![id(1, 0)], 2, 0).unwrap();
    let mut w = NetworkChannelWriter::<String>::open(&a, b.address(), id(1, 0)).unwrap();
    send(&mut w, batch(&["a"])).await;
    assert_eq!(next(&mut gate).await, (0, "a@7".into()));
    drop(a);
    let cause = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(cause) = gate.failure() {
                return cause;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(
        cause,
        format!("the TaskManager at {a_address} closed the data-plane connection; it stopped or failed — see its log")
    );
    let closed = poll_fn(|cx| w.poll_ready(cx)).await.unwrap_err();
    assert_eq!(closed.failure(), Some("the data plane of this TaskManager shut down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_gate_closes_its_remote_senders() {
    let (a, b) = (env().await, env().await);
    let (gate, handle) = InputGate::<String>::new(1, Credits::default());
    register_remote_channels(&handle, &b, vec![id(1, 0)], 1, 0).unwrap();
    let mut w = NetworkChannelWriter::<String>::open(&a, b.address(), id(1, 0)).unwrap();
    send(&mut w, batch(&["a"])).await;
    drop(gate);
    let closed = tokio::time::timeout(Duration::from_secs(10), poll_fn(|cx| w.poll_ready(cx))).await.unwrap();
    assert_eq!(closed.unwrap_err().failure(), None, "the receiver went away: the sender is canceled, not failed");
}
