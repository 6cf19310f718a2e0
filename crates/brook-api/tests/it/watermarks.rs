//! Watermark strategies: timestamps and the watermarks downstream operators see.
//!
//! A process function after `assign_timestamps_and_watermarks` reports, per
//! record, its timestamp and `ctx.current_watermark()` — the last watermark that
//! reached it before the record. Punctuated generators make that sequence exact;
//! periodic ones are made exact by a source slower than the emission interval.

use crate::support::{JOB_DEADLINE, collect, env};
use brook_api::{
    Collector, Context, KeyedContext, KeyedProcessFunction, RuntimeMode, StreamExecutionEnvironment, Watermark,
    WatermarkGenerator, WatermarkOutput, WatermarkStrategy,
};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MIN: i64 = i64::MIN;

/// Emits each record's timestamp − 1 right away (a punctuated generator).
struct EveryEvent;

impl<T> WatermarkGenerator<T> for EveryEvent {
    fn on_event(&mut self, _event: &T, timestamp: i64, output: &mut WatermarkOutput) {
        output.emit_watermark(Watermark(timestamp - 1));
    }
}

type Event = (String, i64);

fn events(pairs: &[(&str, i64)]) -> Vec<Event> {
    pairs.iter().map(|(name, ts)| (name.to_string(), *ts)).collect()
}

/// Punctuated watermarks, timestamps from the second field.
fn punctuated() -> WatermarkStrategy<Event> {
    WatermarkStrategy::for_generator(|| EveryEvent).with_timestamp_assigner(|(_, ts): &Event, _| *ts)
}

/// `(name, record timestamp, watermark seen before the record)`.
fn observe(name: Event, ctx: &mut Context<'_>, out: &mut Collector<(String, Option<i64>, i64)>) {
    out.collect((name.0, ctx.timestamp(), ctx.current_watermark().0));
}

fn seen(rows: &[(&str, i64, i64)]) -> Vec<(String, Option<i64>, i64)> {
    rows.iter().map(|(n, ts, wm)| (n.to_string(), Some(*ts), *wm)).collect()
}

#[test]
fn punctuated_watermarks_reach_the_next_record_in_the_chain_and_downstream() {
    let env = env(1);
    let input = events(&[("a", 1), ("b", 5), ("c", 3), ("d", 8), ("e", 8), ("f", 2), ("g", 10)]);
    let stamped = env.from_collection(input).assign_timestamps_and_watermarks(punctuated());
    let chained = stamped.clone().process(observe).collect();
    // After a network edge: watermarks travel between the records that caused them.
    let downstream = stamped.rebalance().process(observe).collect();
    crate::support::run(&env, "punctuated").unwrap();
    // Watermarks after each record: 0, 4, (2 dropped), 7, (7 again), (1 dropped), 9.
    let expected =
        seen(&[("a", 1, MIN), ("b", 5, 0), ("c", 3, 4), ("d", 8, 4), ("e", 8, 7), ("f", 2, 7), ("g", 10, 7)]);
    assert_eq!(chained.take(), expected);
    assert_eq!(downstream.take(), expected);
}

#[test]
fn bounded_out_of_orderness_trails_the_highest_timestamp_by_the_bound_plus_one() {
    // One record per batch, each taking longer than the 1 ms emission interval,
    // so a periodic watermark is emitted between any two records.
    let env = env(1);
    env.set_batch_size(1);
    env.set_auto_watermark_interval(Duration::from_millis(1));
    let input = events(&[("a", 10), ("b", 30), ("c", 20), ("d", 26), ("e", 40), ("f", 12), ("g", 41)]);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(5))
        .with_timestamp_assigner(|(_, ts): &Event, _| *ts);
    let observed = env
        .from_collection(input)
        .map(|e: Event| {
            std::thread::sleep(Duration::from_millis(3));
            e
        })
        .assign_timestamps_and_watermarks(strategy)
        .process(observe);
    // Late records (c, d, f) keep their timestamps and do not lower the watermark.
    assert_eq!(
        collect(&env, observed),
        seen(&[
            ("a", 10, MIN),
            ("b", 30, 4),
            ("c", 20, 24),
            ("d", 26, 24),
            ("e", 40, 24),
            ("f", 12, 34),
            ("g", 41, 34),
        ])
    );
}

#[test]
fn a_later_strategy_replaces_upstream_watermarks_and_may_keep_timestamps() {
    let env = env(1);
    let observed = env
        .from_collection(events(&[("a", 1), ("b", 5), ("c", 9)]))
        .assign_timestamps_and_watermarks(punctuated())
        // No assigner: records keep the timestamps given above.
        .assign_timestamps_and_watermarks(WatermarkStrategy::no_watermarks())
        .process(observe);
    assert_eq!(collect(&env, observed), seen(&[("a", 1, MIN), ("b", 5, MIN), ("c", 9, MIN)]));
}

#[test]
fn batch_mode_assigns_timestamps_without_intermediate_watermarks() {
    let env = env(1);
    env.set_runtime_mode(RuntimeMode::Batch);
    let observed = env
        .from_collection(events(&[("a", 1), ("b", 5)]))
        .assign_timestamps_and_watermarks(punctuated())
        .process(observe);
    assert_eq!(collect(&env, observed), seen(&[("a", 1, MIN), ("b", 5, MIN)]));
}

/// The operator names of each chain of the plan, with the chain's parallelism.
fn chains(env: &StreamExecutionEnvironment) -> Vec<(Vec<String>, u64)> {
    let plan: serde_json::Value = serde_json::from_str(&env.get_execution_plan().unwrap()).unwrap();
    let names = |v: &serde_json::Value| {
        v["operators"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect()
    };
    plan["vertices"].as_array().unwrap().iter().map(|v| (names(v), v["parallelism"].as_u64().unwrap())).collect()
}

#[test]
fn the_assigner_takes_its_inputs_parallelism_and_chains_to_it() {
    let env = env(4);
    env.from_collection(events(&[("a", 1)])).assign_timestamps_and_watermarks(punctuated()).discard();
    let names = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        chains(&env),
        vec![(names(&["Source: Collection Source", "Timestamps/Watermarks"]), 1), (names(&["Sink: Discard"]), 4)]
    );

    // A parallel source's parallelism is the default one: both stay together.
    let env = crate::support::env(4);
    env.generate_sequence(1, 10)
        .assign_timestamps_and_watermarks(WatermarkStrategy::for_monotonous_timestamps())
        .discard();
    assert_eq!(chains(&env), vec![(names(&["Source: Sequence Source", "Timestamps/Watermarks", "Sink: Discard"]), 4)]);

    // set_parallelism on the result overrides the inherited parallelism.
    let env = crate::support::env(4);
    env.generate_sequence(1, 10)
        .assign_timestamps_and_watermarks(WatermarkStrategy::for_monotonous_timestamps())
        .set_parallelism(2)
        .discard();
    assert_eq!(
        chains(&env),
        vec![
            (names(&["Source: Sequence Source"]), 4),
            (names(&["Timestamps/Watermarks"]), 2),
            (names(&["Sink: Discard"]), 4)
        ]
    );
}

/// On every record registers an event-time timer 3 ms later; reports records
/// and timers in the order they happen.
#[derive(Clone)]
struct TimerAfterEachRecord;

impl KeyedProcessFunction<String, Event, String> for TimerAfterEachRecord {
    fn process_element(&mut self, (_, ts): Event, ctx: &mut KeyedContext<'_, String>, out: &mut Collector<String>) {
        out.collect(format!("record {ts}"));
        ctx.timer_service().register_event_time_timer(ts + 3);
    }

    fn on_timer(&mut self, timestamp: i64, _ctx: &mut KeyedContext<'_, String>, out: &mut Collector<String>) {
        out.collect(format!("timer {timestamp}"));
    }
}

#[test]
fn watermarks_fire_event_time_timers_downstream_and_end_of_input_fires_the_rest() {
    let env = env(1);
    let fired = env
        .from_collection(events(&[("k", 1), ("k", 5), ("k", 20), ("k", 22), ("k", 40)]))
        .assign_timestamps_and_watermarks(punctuated())
        .key_by(|(k, _): &Event| k.clone())
        .process(TimerAfterEachRecord);
    // Watermarks 0, 4, 19, 21, 39, then MAX at end of input.
    assert_eq!(
        collect(&env, fired),
        [
            "record 1",
            "record 5",
            "timer 4",
            "record 20",
            "timer 8",
            "record 22",
            "record 40",
            "timer 23",
            "timer 25",
            "timer 43"
        ]
    );
}

/// A TCP server for one connection that sends what the test passes to it and
/// closes the connection when the sender is dropped.
fn line_server() -> (u16, mpsc::Sender<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let (mut conn, _): (TcpStream, _) = listener.accept().unwrap();
        for line in rx {
            if conn.write_all(format!("{line}\n").as_bytes()).is_err() {
                return;
            }
        }
    });
    (port, tx)
}

/// Runs `quiet.union(ticks)` into a process that reports the watermark each tick
/// sees; ticks are sent every 20 ms until one sees a watermark or `budget`
/// passes. The quiet stream sends nothing; with `idleness` it is marked idle.
fn ticks_beside_a_quiet_stream(idleness: Option<Duration>, budget: Duration) -> Vec<(i64, i64)> {
    let (quiet_port, quiet) = line_server();
    let (ticks_port, ticks) = line_server();
    let env = StreamExecutionEnvironment::get_execution_environment();
    env.set_parallelism(1);
    env.set_buffer_timeout(0);
    env.set_auto_watermark_interval(Duration::from_millis(10));
    let parse = |line: &String, _| line.parse::<i64>().expect("the test sends numbers");
    let mut quiet_strategy = WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(parse);
    if let Some(timeout) = idleness {
        quiet_strategy = quiet_strategy.with_idleness(timeout);
    }
    let quiet_stream = env.socket_text_stream("127.0.0.1", quiet_port).assign_timestamps_and_watermarks(quiet_strategy);
    let tick_stream = env.socket_text_stream("127.0.0.1", ticks_port).assign_timestamps_and_watermarks(
        WatermarkStrategy::for_generator(|| EveryEvent).with_timestamp_assigner(parse),
    );
    let seen = quiet_stream
        .union([tick_stream])
        .process(|line: String, ctx: &mut Context<'_>, out: &mut Collector<(i64, i64)>| {
            out.collect((line.parse().expect("a number"), ctx.current_watermark().0))
        })
        .collect();
    let client = env.execute_async("idleness").unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut next = 100;
    while started.elapsed() < budget && received.iter().all(|(_, wm)| *wm == MIN) {
        ticks.send(next.to_string()).unwrap();
        next += 100;
        std::thread::sleep(Duration::from_millis(20));
        received.extend(seen.take());
    }
    drop((quiet, ticks));
    let (tx, rx) = mpsc::channel();
    let waiter = client.clone();
    std::thread::spawn(move || {
        let _ = tx.send(waiter.wait_for_result());
    });
    rx.recv_timeout(JOB_DEADLINE).expect("the job ends when its sockets close").unwrap();
    received.extend(seen.take());
    received
}

#[test]
fn an_idle_input_stops_holding_back_event_time() {
    let received = ticks_beside_a_quiet_stream(Some(Duration::from_millis(50)), JOB_DEADLINE);
    // Until the quiet input is marked idle, event time is held at MIN; from then
    // on every tick sees the ticks' own watermark: the previous tick − 1.
    let first_advanced = received.iter().position(|(_, wm)| *wm != MIN).expect("the quiet input went idle");
    assert!(first_advanced >= 1, "the first tick has no watermark of its own stream before it: {received:?}");
    for (i, (tick, wm)) in received.iter().enumerate() {
        assert_eq!(*tick, 100 * (i as i64 + 1), "{received:?}");
        let expected = if i < first_advanced { MIN } else { tick - 101 };
        assert_eq!(*wm, expected, "tick {tick}: {received:?}");
    }
}

#[test]
fn an_input_without_idleness_holds_back_event_time() {
    let received = ticks_beside_a_quiet_stream(None, Duration::from_millis(300));
    assert!(received.len() >= 5, "{received:?}");
    assert!(received.iter().all(|(_, wm)| *wm == MIN), "{received:?}");
}
