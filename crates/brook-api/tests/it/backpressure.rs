//! Backpressure: a slow sink slows a fast source, so what is in flight between
//! them stays bounded by the credits of the channel. And the buffer timeout: how
//! long a record may wait in a partly filled buffer.
//!
//! A counting map right after the source records how many records it has emitted;
//! the sink records how many it has received. Their difference, sampled by the map
//! at every record, is what sits in the source task's output buffers and in the
//! sink's input gate. Credit-based flow control bounds it by
//! (buffers-per-channel + floating-buffers-per-gate) buffers in the gate, plus the
//! record writer's partly filled buffer and the one full buffer it is waiting to
//! send. Without backpressure the source would run hundreds of thousands of records
//! ahead of a sink that sleeps a millisecond per batch.

use crate::support::{env, eventually, run};
use brook_api::{JobStatus, SinkFunction};
use brook_types::{Batch, Result};
use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const RECORDS: u64 = 300_000;
const BATCH_SIZE: u64 = 64;
/// The defaults of taskmanager.network.memory.buffers-per-channel and
/// floating-buffers-per-gate.
const GATE_BUFFERS: u64 = 2 + 8;

/// A sink that takes a millisecond per batch.
#[derive(Clone)]
struct SlowSink {
    received: Arc<AtomicU64>,
}

impl SinkFunction<i64> for SlowSink {
    fn write_batch(&mut self, batch: Batch<i64>) -> Result<()> {
        self.received.fetch_add(batch.len() as u64, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(1));
        Ok(())
    }
}

#[test]
fn a_slow_sink_bounds_the_records_in_flight() {
    let emitted = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let max_in_flight = Arc::new(AtomicU64::new(0));

    let env = env(1);
    env.set_batch_size(BATCH_SIZE as usize);
    let (e, r, m) = (emitted.clone(), received.clone(), max_in_flight.clone());
    env.generate_sequence(1, RECORDS as i64)
        .map(move |x: i64| {
            let in_flight = e.fetch_add(1, Ordering::SeqCst) + 1 - r.load(Ordering::SeqCst);
            m.fetch_max(in_flight, Ordering::SeqCst);
            x
        })
        .sink_to(SlowSink { received: received.clone() }, "Slow Sink")
        // Its own task, so that records cross a channel with credits.
        .disable_chaining();
    let started = Instant::now();
    let result = run(&env, "backpressure").unwrap();
    let elapsed = started.elapsed();

    assert_eq!(emitted.load(Ordering::SeqCst), RECORDS);
    assert_eq!(received.load(Ordering::SeqCst), RECORDS);
    assert_eq!(result.operator_records["Slow Sink"].0, RECORDS);
    let max = max_in_flight.load(Ordering::SeqCst);
    // At most the gate's buffers, a buffer the sink has taken but not yet counted,
    // and the batch the map is counting: (10 + 2) buffers, 768 records (704 is
    // typical). Twice that leaves room for small changes to the data path and is
    // still far below what an unbounded queue would hold.
    let bound = 2 * (GATE_BUFFERS + 2) * BATCH_SIZE;
    assert!(max <= bound, "{max} records were in flight; credits allow at most {bound}");
    assert!(max >= BATCH_SIZE, "the sampling saw at least one buffer in flight: {max}");
    // The sink really was the bottleneck: one sleep per batch.
    assert!(elapsed >= Duration::from_millis(RECORDS / BATCH_SIZE), "{elapsed:?}");
}

#[test]
fn a_job_blocked_by_backpressure_can_be_canceled() {
    let received = Arc::new(AtomicU64::new(0));
    let env = env(2);
    // Far more records than the test will wait for.
    env.generate_sequence(1, 1_000_000_000).rebalance().sink_to(SlowSink { received: received.clone() }, "Slow Sink");
    let client = env.execute_async("blocked").unwrap();
    assert!(eventually(&client, Duration::from_secs(20), |_| received.load(Ordering::SeqCst) > 0));
    client.cancel();
    assert!(
        eventually(&client, Duration::from_secs(10), |s| s.status.is_globally_terminal()),
        "{:?}",
        client.snapshot()
    );
    assert_eq!(client.status(), JobStatus::Canceled);
}

/// A server that sends two lines and keeps the connection open for `open_for`.
fn two_lines_then_silence(open_for: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"x\ny\n").unwrap();
        std::thread::sleep(open_for);
    });
    port
}

/// Whether two lines from a socket that then stays silent reach a sink in another
/// task within `wait`, with the given buffer timeout.
fn lines_arrive_within(buffer_timeout_ms: i64, wait: Duration) -> bool {
    let port = two_lines_then_silence(wait + Duration::from_secs(5));
    let env = env(2);
    env.set_buffer_timeout(buffer_timeout_ms);
    let seen = env.socket_text_stream("127.0.0.1", port).rebalance().collect();
    let client = env.execute_async("buffer timeout").unwrap();
    let arrived = eventually(&client, wait, |_| seen.len() == 2);
    client.cancel();
    assert!(client.wait_for_result().is_err(), "the job was canceled");
    arrived
}

#[test]
fn the_buffer_timeout_flushes_partly_filled_buffers() {
    // Two records never fill a buffer of 1024; the timer (100 ms by default, or 0:
    // after every record) sends them anyway.
    assert!(lines_arrive_within(100, Duration::from_secs(10)));
    assert!(lines_arrive_within(0, Duration::from_secs(10)));
}

#[test]
fn without_a_buffer_timeout_partly_filled_buffers_wait() {
    // -1: only full buffers (or end of input) are sent.
    assert!(!lines_arrive_within(-1, Duration::from_millis(700)));
}

#[test]
fn a_busy_task_still_flushes_on_the_buffer_timeout() {
    // The source is never idle (a huge sequence) and only its first record passes
    // the filter, so the buffer after the filter never fills: only the timeout,
    // checked between batches of a busy task, can send it.
    let env = env(1);
    env.set_buffer_timeout(50);
    let seen = env.generate_sequence(1, i64::MAX / 2).filter(|x| *x == 1).rebalance().collect();
    let client = env.execute_async("busy source").unwrap();
    let arrived = eventually(&client, Duration::from_secs(20), |_| seen.len() == 1);
    client.cancel();
    assert!(client.wait_for_result().is_err(), "the job was canceled");
    assert!(arrived, "the one record passing the filter reached the sink while the source was busy");
    assert_eq!(seen.take(), vec![1]);
}
