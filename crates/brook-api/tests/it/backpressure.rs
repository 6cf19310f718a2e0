//! Backpressure: a slow sink slows a fast source, so what is in flight between
//! them stays bounded by the credits of the channel.
//!
//! A counting map right after the source records how many records it has emitted;
//! the sink records how many it has received. Their difference, sampled by the map
//! at every record, is what sits in the source task's output buffers and in the
//! sink's input gate. Credit-based flow control bounds it by
//! (buffers-per-channel + floating-buffers-per-gate) buffers in the gate, plus the
//! record writer's partly filled buffer and the one full buffer it is waiting to
//! send. Without backpressure the source would run hundreds of thousands of records
//! ahead of a sink that sleeps a millisecond per batch.

use crate::support::{env, run};
use brook_api::SinkFunction;
use brook_types::{Batch, Result};
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
    // The gate's buffers, the writer's partial and pending buffers, and slack of as
    // much again: far below what an unbounded queue would hold.
    let bound = 2 * (GATE_BUFFERS + 2) * BATCH_SIZE;
    assert!(max <= bound, "{max} records were in flight; credits allow at most {bound}");
    assert!(max >= BATCH_SIZE, "the sampling saw at least one buffer in flight: {max}");
    // The sink really was the bottleneck: one sleep per batch.
    assert!(elapsed >= Duration::from_millis(RECORDS / BATCH_SIZE), "{elapsed:?}");
}
