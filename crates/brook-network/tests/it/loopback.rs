//! Two environments over real loopback TCP in one process.

use brook_network::{
    ChannelError, ChannelId, Frame, InputSink, NetworkConfig, NetworkEnvironment, OutputChannel, RemoteInputGate,
    SinkError,
};
use brook_types::{JobId, VertexId};
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

#[derive(Default)]
struct Collect {
    got: Mutex<Vec<(usize, &'static str, Bytes)>>,
    failure: Mutex<Option<String>>,
    changed: Notify,
}

impl InputSink for Collect {
    fn on_buffer(&self, channel: usize, payload: Bytes) -> Result<(), SinkError> {
        self.got.lock().push((channel, "buffer", payload));
        self.changed.notify_waiters();
        Ok(())
    }
    fn on_event(&self, channel: usize, payload: Bytes) -> Result<(), SinkError> {
        self.got.lock().push((channel, "event", payload));
        self.changed.notify_waiters();
        Ok(())
    }
    fn on_failure(&self, cause: &str) {
        *self.failure.lock() = Some(cause.to_string());
        self.changed.notify_waiters();
    }
}

impl Collect {
    async fn wait_for(&self, what: impl Fn(&Self) -> bool) {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let notified = self.changed.notified();
                if what(self) {
                    return;
                }
                notified.await;
            }
        })
        .await
        .expect("the expected frames arrive within 10 s");
    }

    fn take(&self) -> Vec<(usize, &'static str, String)> {
        self.got.lock().drain(..).map(|(c, k, p)| (c, k, String::from_utf8(p.to_vec()).unwrap())).collect()
    }
}

fn id(vertex: u128, channel: u32) -> ChannelId {
    ChannelId { job: JobId(7), vertex: VertexId(vertex), subtask: 0, input: 0, channel, attempt: 0 }
}

async fn send_buffer(out: &OutputChannel, text: &str) {
    poll_fn(|cx| out.poll_credit(cx, 1)).await.expect("the channel is open");
    out.send_buffer(Bytes::from(text.to_string()), 0).expect("a credit was granted");
}

async fn env() -> NetworkEnvironment {
    NetworkEnvironment::start(NetworkConfig::default()).await.expect("loopback has free ports")
}

fn register(env: &NetworkEnvironment, ids: Vec<ChannelId>, exclusive: u32) -> (RemoteInputGate, Arc<Collect>) {
    let sink = Arc::new(Collect::default());
    let gate = env.register_input_gate(ids, exclusive, 0, sink.clone()).unwrap();
    (gate, sink)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_in_both_directions_share_one_connection_and_keep_their_order() {
    let (a, b) = (env().await, env().await);
    // B receives channels 0 and 1 of vertex 1; A receives channel 0 of vertex 2.
    let (gate_b, at_b) = register(&b, vec![id(1, 0), id(1, 1)], 2);
    let (gate_a, at_a) = register(&a, vec![id(2, 0)], 2);
    let a0 = a.open_output(b.address(), id(1, 0)).unwrap();
    let a1 = a.open_output(b.address(), id(1, 1)).unwrap();
    let b0 = b.open_output(a.address(), id(2, 0)).unwrap();
    for i in 0..20 {
        send_buffer(&a0, &format!("a0-{i}")).await;
        send_buffer(&a1, &format!("a1-{i}")).await;
        send_buffer(&b0, &format!("b0-{i}")).await;
        // The receivers free what arrived: one credit back per buffer.
        at_b.wait_for(|s| s.got.lock().len() >= 2).await;
        for (c, _, _) in at_b.got.lock().iter() {
            gate_b.release(*c);
        }
        at_a.wait_for(|s| !s.got.lock().is_empty()).await;
        gate_a.release(0);
        let mut got_b = at_b.take();
        got_b.sort();
        assert_eq!(got_b, vec![(0, "buffer", format!("a0-{i}")), (1, "buffer", format!("a1-{i}"))], "round {i}");
        assert_eq!(at_a.take(), vec![(0, "buffer", format!("b0-{i}"))], "round {i}");
    }
    assert_eq!((a.num_connections(), b.num_connections()), (1, 1), "one connection, used both ways");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_pass_without_credit_and_buffers_wait_for_it() {
    let (a, b) = (env().await, env().await);
    let (gate, at_b) = register(&b, vec![id(1, 0)], 2);
    let out = a.open_output(b.address(), id(1, 0)).unwrap();
    send_buffer(&out, "r1").await;
    send_buffer(&out, "r2").await;
    at_b.wait_for(|s| s.got.lock().len() == 2).await;
    // Both credits used and nothing freed: no credit for a third buffer.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    assert!(out.poll_credit(&mut cx, 1).is_pending());
    out.send_event(Bytes::from_static(b"watermark")).unwrap();
    out.send_event(Bytes::from_static(b"barrier")).unwrap();
    out.send_event(Bytes::from_static(b"end of input")).unwrap();
    at_b.wait_for(|s| s.got.lock().len() == 5).await;
    assert_eq!(
        at_b.take(),
        vec![
            (0, "buffer", "r1".into()),
            (0, "buffer", "r2".into()),
            (0, "event", "watermark".into()),
            (0, "event", "barrier".into()),
            (0, "event", "end of input".into()),
        ]
    );
    gate.release(0);
    send_buffer(&out, "r3").await;
    at_b.wait_for(|s| s.got.lock().len() == 1).await;
    assert_eq!(at_b.take(), vec![(0, "buffer", "r3".into())]);
    assert_eq!(gate.buffers_in_use(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_opens_before_the_gate_registers_gets_its_credits_then() {
    let (a, b) = (env().await, env().await);
    let out = a.open_output(b.address(), id(1, 0)).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(out.credits(), 0);
    let (_gate, at_b) = register(&b, vec![id(1, 0)], 3);
    send_buffer(&out, "late").await;
    at_b.wait_for(|s| s.got.lock().len() == 1).await;
    assert_eq!(out.credits(), 2);
}

/// A source subtask with nothing for a channel sends its watermark and end of input
/// (no credit needed) and finishes, possibly before the receiving task is deployed:
/// the events wait for the gate, in order, instead of being dropped (which left the
/// receiving task waiting for its end of input forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_before_the_gate_registers_reach_it_in_order_even_after_the_sender_closed() {
    let (a, b) = (env().await, env().await);
    let finished = a.open_output(b.address(), id(1, 0)).unwrap();
    finished.send_event(Bytes::from_static(b"watermark")).unwrap();
    finished.send_event(Bytes::from_static(b"end of input")).unwrap();
    drop(finished);
    let open = a.open_output(b.address(), id(1, 1)).unwrap();
    open.send_event(Bytes::from_static(b"watermark 1")).unwrap();
    // Let every frame arrive at B before its gate exists.
    tokio::time::timeout(Duration::from_secs(10), async {
        while b.num_connections() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_gate, at_b) = register(&b, vec![id(1, 0), id(1, 1)], 2);
    at_b.wait_for(|s| s.got.lock().len() == 3).await;
    open.send_event(Bytes::from_static(b"end of input 1")).unwrap();
    at_b.wait_for(|s| s.got.lock().len() == 4).await;
    assert_eq!(
        at_b.take(),
        vec![
            (0, "event", "watermark".to_string()),
            (0, "event", "end of input".to_string()),
            (1, "event", "watermark 1".to_string()),
            (1, "event", "end of input 1".to_string()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_goes_away_fails_the_channels_with_its_address() {
    let (a, b) = (env().await, env().await);
    let b_address = b.address().to_string();
    let (_gate_a, at_a) = register(&a, vec![id(2, 0)], 2);
    let _b0 = b.open_output(a.address(), id(2, 0)).unwrap();
    let out = a.open_output(&b_address, id(1, 0)).unwrap();
    // Wait until the connection carries B's open.
    tokio::time::timeout(Duration::from_secs(10), async {
        while a.num_connections() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    drop(b);
    at_a.wait_for(|s| s.failure.lock().is_some()).await;
    let cause = at_a.failure.lock().clone().unwrap();
    assert_eq!(
        cause,
        format!("the TaskManager at {b_address} closed the data-plane connection; it stopped or failed — see its log")
    );
    let err = poll_fn(|cx| out.poll_credit(cx, 1)).await.unwrap_err();
    assert_eq!(err, ChannelError::Failed(cause));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_peer_fails_the_sender_saying_what_to_check() {
    let a = env().await;
    // A port that was free a moment ago: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let config = NetworkConfig { connect_timeout: Duration::from_millis(300), ..NetworkConfig::default() };
    let a2 = NetworkEnvironment::start(config).await.unwrap();
    drop(a);
    let out = a2.open_output(&free, id(1, 0)).unwrap();
    let err = poll_fn(|cx| out.poll_credit(cx, 1)).await.unwrap_err();
    let ChannelError::Failed(cause) = err else { panic!("expected a failure, got {err:?}") };
    assert!(cause.starts_with(&format!("cannot connect to the data plane of the TaskManager at {free}: ")), "{cause}");
    assert!(cause.ends_with("check that it runs and that its taskmanager.data.port is reachable from here"), "{cause}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_frame_fails_the_gates_it_feeds() {
    let a = env().await;
    let (_gate, at_a) = register(&a, vec![id(1, 0)], 2);
    let mut raw = tokio::net::TcpStream::connect(a.address()).await.unwrap();
    let mut out = BytesMut::new();
    Frame::Hello { version: brook_network::PROTOCOL_VERSION, address: "10.9.8.7:6".into() }.encode(&mut out);
    Frame::Open { channel: id(1, 0) }.encode(&mut out);
    raw.write_all(&out).await.unwrap();
    // Welcome, then the exclusive credits.
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    while frames.len() < 2 {
        raw.read_buf(&mut buf).await.unwrap();
        while let Some(f) = Frame::decode(&mut buf, 1 << 20).unwrap() {
            frames.push(f);
        }
    }
    assert_eq!(frames, vec![Frame::Welcome, Frame::AddCredit { channel: id(1, 0), credits: 2 }]);
    raw.write_all(&[0, 0, 0, 1, 99]).await.unwrap();
    at_a.wait_for(|s| s.failure.lock().is_some()).await;
    assert_eq!(
        at_a.failure.lock().clone().unwrap(),
        "the TaskManager at 10.9.8.7:6 sent a malformed data-plane frame: unknown frame kind 99; both TaskManagers \
         must run the same Brook version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_dialing_at_once_ends_with_one_connection() {
    for _ in 0..10 {
        let (a, b) = (env().await, env().await);
        let (ga, at_a) = register(&a, vec![id(1, 0)], 1);
        let (gb, at_b) = register(&b, vec![id(2, 0)], 1);
        let (ao, bo) = (a.open_output(b.address(), id(2, 0)).unwrap(), b.open_output(a.address(), id(1, 0)).unwrap());
        let (x, y) = tokio::join!(send_buffer(&ao, "to b"), send_buffer(&bo, "to a"));
        let _ = (x, y);
        at_a.wait_for(|s| s.got.lock().len() == 1).await;
        at_b.wait_for(|s| s.got.lock().len() == 1).await;
        assert_eq!(at_a.take(), vec![(0, "buffer", "to a".into())]);
        assert_eq!(at_b.take(), vec![(0, "buffer", "to b".into())]);
        assert_eq!((a.num_connections(), b.num_connections()), (1, 1));
        drop((ga, gb));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_receiver_stops_the_sender_with_bounded_bytes_in_between() {
    const BUFFER: usize = 32 << 10;
    const BUFFERS: usize = 200;
    let (exclusive, floating) = (2u32, 4u32);
    let (a, b) = (env().await, env().await);
    let sink = Arc::new(Collect::default());
    let gate = b.register_input_gate(vec![id(1, 0), id(1, 1)], exclusive, floating, sink.clone()).unwrap();
    let outs: Vec<OutputChannel> = (0..2).map(|c| a.open_output(b.address(), id(1, c)).unwrap()).collect();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sender = {
        let sent = sent.clone();
        tokio::spawn(async move {
            // Channel 0 has a backlog (it wants all its buffers out); channel 1 sends one.
            for i in 0..BUFFERS {
                let (out, backlog) = if i == 0 { (&outs[1], 0) } else { (&outs[0], (BUFFERS - i - 1) as u32) };
                poll_fn(|cx| out.poll_credit(cx, backlog + 1)).await.unwrap();
                let mut payload = vec![(i % 251) as u8; BUFFER];
                payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
                out.send_buffer(Bytes::from(payload), backlog).unwrap();
                sent.fetch_add(BUFFER, std::sync::atomic::Ordering::SeqCst);
            }
            outs
        })
    };
    // Every credit the gate has: 2 channels × 2 exclusive + 4 floating.
    let credits = 2 * exclusive as usize + floating as usize;
    let bound = credits * BUFFER;
    let stalled = || async {
        // Stalled: nothing more is sent for 30 checks in a row.
        let mut last = usize::MAX;
        let mut same = 0;
        while same < 30 {
            let now = sent.load(std::sync::atomic::Ordering::SeqCst);
            same = if now == last { same + 1 } else { 0 };
            last = now;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        last
    };
    let mut consumed = 0usize;
    let mut order = Vec::new();
    // The receiver takes nothing: the sender stops once the gate's credits are used.
    // (First wait for that many, however slow a loaded machine is; then check that
    // nothing more goes out.)
    let expected_stall = (1 + 2 + floating as usize) * BUFFER;
    tokio::time::timeout(Duration::from_secs(30), async {
        while sent.load(std::sync::atomic::Ordering::SeqCst) < expected_stall {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the sender uses the credits it is given");
    let sent_while_stalled = stalled().await;
    // Channel 1 used one of its exclusive credits; channel 0 its two and every floating one.
    assert_eq!(sent_while_stalled, expected_stall, "the credits channel 0 could get");
    assert!(a.queued_bytes() + (sent_while_stalled - consumed) <= bound + credits * 128);
    assert_eq!(gate.buffers_in_use() as usize, 1 + 2 + floating as usize);
    // A slow receiver: frees one buffer at a time; the sender follows, never further
    // ahead than the credits allow.
    while consumed < BUFFERS * BUFFER {
        sink.wait_for(|s| !s.got.lock().is_empty()).await;
        let (channel, _, payload) = sink.got.lock().remove(0);
        order.push((channel, u64::from_be_bytes(payload[..8].try_into().unwrap())));
        consumed += payload.len();
        gate.release(channel);
        let in_between = sent.load(std::sync::atomic::Ordering::SeqCst) - consumed;
        assert!(in_between <= bound, "{in_between} payload bytes between sender and receiver, bound {bound}");
    }
    let _outs = sender.await.unwrap();
    let mut expected: Vec<(usize, u64)> = (1..BUFFERS as u64).map(|i| (0, i)).collect();
    expected.insert(order.iter().position(|&(c, _)| c == 1).unwrap(), (1, 0));
    assert_eq!(order, expected, "every buffer once, in order per channel");
    // The last frames (a backlog announcement, say) leave the queue shortly after.
    tokio::time::timeout(Duration::from_secs(10), async {
        while a.queued_bytes() != 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the sender's queue drains");
}
