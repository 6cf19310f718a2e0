//! Windows and evictors: golden tests with hand-checked outputs.
//!
//! Inputs are `(key, value, timestamp)` events with watermark markers among them:
//! a `("#wm", w, w)` event makes a punctuated generator emit `Watermark(w)` and is
//! then filtered out. Everything before the window runs in one subtask, so every window subtask sees
//! the same order of records and watermarks at any parallelism, and the
//! results — which records are late, what each firing contains — are exact.
//! Results carry the window's max timestamp; `with_timestamps` reads it back.

use crate::support::{JOB_DEADLINE, collect, env, env_with_slots, run, sorted};
use brook_api::window::{
    AggregateFunction, ContinuousEventTimeTrigger, CountEvictor, CountTrigger, EventTimeSessionWindows, GlobalWindows,
    ProcessWindowContext, SlidingEventTimeWindows, TimeEvictor, TimeWindow, TumblingEventTimeWindows,
    TumblingProcessingTimeWindows, WindowElements,
};
use brook_api::{
    Collector, Context, DataStream, OutputTag, StreamExecutionEnvironment, Watermark, WatermarkGenerator,
    WatermarkOutput, WatermarkStrategy,
};
use proptest::prelude::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

type Event = (String, i64, i64);

const WM: &str = "#wm";

/// Emits `Watermark(w)` for a marker `("#wm", w, w)`.
struct Markers;

impl WatermarkGenerator<Event> for Markers {
    fn on_event(&mut self, event: &Event, _timestamp: i64, output: &mut WatermarkOutput) {
        if event.0 == WM {
            output.emit_watermark(Watermark(event.1));
        }
    }
}

/// `spec`: `"a:3@12"` is key a, value 3, timestamp 12; `"wm:9"` is a watermark.
fn events(spec: &str) -> Vec<Event> {
    spec.split_whitespace()
        .map(|item| {
            if let Some(w) = item.strip_prefix("wm:") {
                let w: i64 = w.parse().unwrap();
                (WM.to_string(), w, w)
            } else {
                let (key, rest) = item.split_once(':').unwrap();
                let (value, ts) = rest.split_once('@').unwrap();
                (key.to_string(), value.parse().unwrap(), ts.parse().unwrap())
            }
        })
        .collect()
}

/// The events with their timestamps and the markers' watermarks, markers removed.
fn source(env: &StreamExecutionEnvironment, spec: &str) -> DataStream<Event> {
    env.from_collection(events(spec))
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_generator(|| Markers).with_timestamp_assigner(|e: &Event, _| e.2),
        )
        .filter(|e: &Event| e.0 != WM)
        // one subtask up to the window: each window subtask has a single input channel
        .set_parallelism(1)
}

fn key(e: &Event) -> String {
    e.0.clone()
}

fn sum(a: Event, b: Event) -> Event {
    (a.0, a.1 + b.1, a.2.max(b.2))
}

/// `(value, timestamp of the record)`.
fn with_timestamps<T: brook_api::Data>(stream: DataStream<T>) -> DataStream<(T, i64)> {
    stream.process(|v: T, ctx: &mut Context<'_>, out: &mut Collector<(T, i64)>| {
        let ts = ctx.timestamp().expect("window results carry a timestamp");
        out.collect((v, ts))
    })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// (key, sum of values, timestamp of the result).
fn sums(out: Vec<(Event, i64)>) -> Vec<(String, i64, i64)> {
    sorted(out.into_iter().map(|((k, v, _), ts)| (k, v, ts)).collect())
}

fn triples(rows: &[(&str, i64, i64)]) -> Vec<(String, i64, i64)> {
    sorted(rows.iter().map(|(k, v, t)| (k.to_string(), *v, *t)).collect())
}

#[test]
fn tumbling_event_time_sums_with_out_of_order_records() {
    for p in [1, 3] {
        let env = env_with_slots(3, p);
        let input = "a:1@1 b:2@2 a:3@12 a:4@7 wm:9 b:5@11 a:6@14 a:7@10 wm:25 a:8@31";
        let windows = source(&env, input).key_by(key).window(TumblingEventTimeWindows::of(ms(10))).reduce(sum);
        let out = collect(&env, with_timestamps(windows));
        // [0,10): a 1+4, b 2; [10,20): a 3+6+7, b 5; [30,40): a 8 (at end of input).
        let expected = triples(&[("a", 5, 9), ("b", 2, 9), ("a", 16, 19), ("b", 5, 19), ("a", 8, 39)]);
        assert_eq!(sums(out), expected, "parallelism {p}");
    }
}

#[test]
fn sliding_event_time_max_fires_every_slide() {
    let env = env(2);
    let input = "a:5@1 a:3@6 a:9@11 b:1@4";
    let max = |a: Event, b: Event| if b.1 > a.1 { b } else { a };
    let windows = source(&env, input).key_by(key).window(SlidingEventTimeWindows::of(ms(10), ms(5))).reduce(max);
    let out = collect(&env, with_timestamps(windows));
    // a: [-5,5) 5 | [0,10) max(5,3) | [5,15) max(3,9) | [10,20) 9; b: [-5,5), [0,10) 1.
    let expected = triples(&[("a", 5, 4), ("a", 5, 9), ("a", 9, 14), ("a", 9, 19), ("b", 1, 4), ("b", 1, 9)]);
    assert_eq!(sums(out), expected);
}

/// (key, window start, window end, values in arrival order).
type Session = (String, i64, i64, Vec<i64>);

#[allow(clippy::ptr_arg)] // the signature of a ProcessWindowFunction
fn describe(
    key: &String,
    ctx: &mut ProcessWindowContext<'_, String, TimeWindow>,
    elements: WindowElements<'_, Event>,
    out: &mut Collector<Session>,
) {
    let w = ctx.window();
    out.collect((key.clone(), w.start, w.end, elements.map(|e| e.1).collect()));
}

#[test]
fn a_record_that_bridges_two_sessions_merges_them() {
    let env = env(2);
    // a: [0,10) and [18,28), then [9,19) touches both: one session [0,28).
    // Watermark 8 fires nothing: both [0,10) end at 9. b: 12 is more than the gap
    // after 0, a session of its own.
    let input = "a:1@0 b:1@0 a:2@18 wm:8 a:3@9 b:2@12 a:4@40";
    let sessions = source(&env, input).key_by(key).window(EventTimeSessionWindows::with_gap(ms(10))).process(describe);
    let out = collect(&env, with_timestamps(sessions));
    let expected = sorted(vec![
        (("a".to_string(), 0, 28, vec![1, 2, 3]), 27),
        (("a".to_string(), 40, 50, vec![4]), 49),
        (("b".to_string(), 0, 10, vec![1]), 9),
        (("b".to_string(), 12, 22, vec![2]), 21),
    ]);
    assert_eq!(sorted(out), expected);
}

#[test]
fn late_records_fire_again_within_the_allowed_lateness_and_are_dropped_beyond_it() {
    let env = env(2);
    // [0,10) fires at wm 9 (a: 1). a:2@5 is late but within 5 ms: fires again (3).
    // wm 14 cleans [0,10) up; a:4@8 (8 + 5 <= 14) is dropped and counted.
    let input = "a:1@1 wm:9 a:2@5 wm:14 a:4@8 a:8@15";
    let windows = source(&env, input)
        .key_by(key)
        .window(TumblingEventTimeWindows::of(ms(10)))
        .allowed_lateness(ms(5))
        .reduce(sum)
        .name("late sums");
    let handle = with_timestamps(windows).collect();
    let result = run(&env, "late data").unwrap();
    assert_eq!(sums(handle.take()), triples(&[("a", 1, 9), ("a", 3, 9), ("a", 8, 19)]));
    assert_eq!(result.accumulator("late sums.numLateRecordsDropped"), Some(1));
}

#[test]
fn late_records_go_to_the_side_output() {
    let env = env(2);
    let input = "a:1@1 b:7@3 wm:10 a:2@9 b:3@0 a:4@10 wm:30";
    let late = OutputTag::<Event>::new("late");
    let windows = source(&env, input)
        .key_by(key)
        .window(TumblingEventTimeWindows::of(ms(10)))
        .side_output_late_data(&late)
        .reduce(sum)
        .name("sums");
    let late_records = with_timestamps(windows.get_side_output(&late)).collect();
    let main = with_timestamps(windows).collect();
    let result = run(&env, "late side output").unwrap();
    assert_eq!(sums(main.take()), triples(&[("a", 1, 9), ("b", 7, 9), ("a", 4, 19)]));
    // Late records keep their own timestamps.
    assert_eq!(sums(late_records.take()), triples(&[("a", 2, 9), ("b", 3, 0)]));
    assert_eq!(result.accumulator("sums.numLateRecordsDropped"), Some(0));
}

#[test]
fn tumbling_count_windows_fire_every_n_records_of_a_key() {
    let env = env(2);
    let input = "a:1@1 a:2@2 b:10@1 a:3@3 a:4@4 b:20@2 a:5@5 a:6@6 a:7@7";
    let out = collect(&env, source(&env, input).key_by(key).count_window(3).reduce(sum));
    // a: 1+2+3, 4+5+6; 7 and b's two records never fill a window.
    let values = sorted(out.into_iter().map(|(k, v, _)| (k, v)).collect());
    assert_eq!(values, vec![("a".to_string(), 6), ("a".to_string(), 15)]);
}

#[test]
fn sliding_count_windows_fire_every_slide_over_the_last_size_records() {
    let env = env(2);
    let input = "a:1@1 a:2@2 b:10@1 a:3@3 a:4@4 b:20@2 a:5@5 a:6@6 a:7@7";
    let out = collect(&env, source(&env, input).key_by(key).count_window_slide(3, 2).reduce(sum));
    // a: after 2 records [1,2], after 4 [2,3,4], after 6 [4,5,6]; b: [10,20].
    let values = sorted(out.into_iter().map(|(k, v, _)| (k, v)).collect());
    let expected = vec![("a".to_string(), 3), ("a".to_string(), 9), ("a".to_string(), 15), ("b".to_string(), 30)];
    assert_eq!(values, expected);
}

#[test]
fn a_time_evictor_trims_event_time_windows_before_the_function() {
    let env = env(2);
    let input = "a:1@1 a:2@50 a:3@55 a:4@45 b:5@90";
    let windows = source(&env, input)
        .key_by(key)
        .window(TumblingEventTimeWindows::of(ms(100)))
        .evictor(TimeEvictor::of(ms(10)))
        .process(
            |k: &String,
             _: &mut ProcessWindowContext<'_, String, TimeWindow>,
             e: WindowElements<'_, Event>,
             out: &mut Collector<(String, Vec<i64>)>| out.collect((k.clone(), e.map(|e| e.1).collect())),
        );
    // a: newest 55, cutoff 45: 1@1 and 4@45 go.
    let out = sorted(collect(&env, windows));
    assert_eq!(out, vec![("a".to_string(), vec![2, 3]), ("b".to_string(), vec![5])]);
}

#[test]
fn window_all_with_an_evictor_after_the_function() {
    let env = env(2);
    let input = "a:1@1 b:2@2 c:3@3 a:4@4 b:5@5";
    // Every 2 records over everything so far, then keep only the newest one.
    let totals = source(&env, input)
        .window_all(GlobalWindows::create())
        .trigger(CountTrigger::of(2))
        .evictor(CountEvictor::of_after(1, true))
        .reduce(sum);
    let out: Vec<i64> = collect(&env, totals).into_iter().map(|e| e.1).collect();
    // [1,2] → 3, keep [2]; [2,3,4] → 9, keep [4]; 5 waits. (The sink at
    // parallelism 2 receives them round robin.)
    assert_eq!(sorted(out), vec![3, 9]);
}

/// Average of the values: (sum, count).
#[derive(Clone)]
struct Average;

impl AggregateFunction<Event> for Average {
    type Acc = (i64, i64);
    type Out = f64;
    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }
    fn add(&self, acc: &mut (i64, i64), e: Event) {
        acc.0 += e.1;
        acc.1 += 1;
    }
    fn get_result(&self, acc: &(i64, i64)) -> f64 {
        acc.0 as f64 / acc.1 as f64
    }
    fn merge(&self, acc: &mut (i64, i64), other: (i64, i64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
}

#[test]
fn aggregate_with_a_process_function_sees_the_window() {
    let env = env(2);
    let input = "a:1@1 a:4@3 b:6@12 a:10@15";
    let label = |key: &String,
                 ctx: &mut ProcessWindowContext<'_, String, TimeWindow>,
                 avg: WindowElements<'_, f64>,
                 out: &mut Collector<String>| {
        for a in avg {
            out.collect(format!("{key} [{}, {}) {a}", ctx.window().start, ctx.window().end));
        }
    };
    let out = collect(
        &env,
        source(&env, input).key_by(key).window(TumblingEventTimeWindows::of(ms(10))).aggregate_with(Average, label),
    );
    assert_eq!(sorted(out), vec!["a [0, 10) 2.5", "a [10, 20) 10", "b [10, 20) 6"]);
}

#[test]
fn sessions_aggregate_merged_accumulators() {
    let env = env(2);
    // [0,10) and [20,30), bridged by [10,20): one session, average (2 + 4 + 6) / 3.
    let input = "a:2@0 a:4@20 a:6@10 b:1@100";
    let windows = source(&env, input).key_by(key).window(EventTimeSessionWindows::with_gap(ms(10))).aggregate(Average);
    let out = collect(&env, with_timestamps(windows));
    let mut out: Vec<(String, i64)> = out.into_iter().map(|(avg, ts)| (avg.to_string(), ts)).collect();
    out.sort();
    assert_eq!(out, vec![("1".to_string(), 109), ("4".to_string(), 29)]);
}

#[test]
fn window_all_evaluates_the_whole_stream_in_one_subtask() {
    let env = env_with_slots(3, 3);
    let input = "a:1@1 b:2@2 c:3@12 a:4@14";
    let totals = source(&env, input).window_all(TumblingEventTimeWindows::of(ms(10))).process(
        |ctx: &mut ProcessWindowContext<'_, (), TimeWindow>,
         elements: WindowElements<'_, Event>,
         out: &mut Collector<(i64, i64, usize)>| {
            let subtasks = ctx.runtime_context().number_of_parallel_subtasks();
            out.collect((ctx.window().start, elements.map(|e| e.1).sum(), subtasks));
        },
    );
    assert_eq!(sorted(collect(&env, totals)), vec![(0, 3, 1), (10, 7, 1)]);
}

#[test]
fn continuous_event_time_trigger_reports_early_results() {
    let env = env(1);
    let input = "a:1@1 wm:4 a:2@5 wm:8 a:4@8 wm:100";
    let windows = source(&env, input)
        .key_by(key)
        .window(TumblingEventTimeWindows::of(ms(10)))
        .trigger(ContinuousEventTimeTrigger::of(ms(4)))
        .reduce(sum);
    // fires at 4 (1), 8 (1+2: the 8 arrives after watermark 8), and at the end 9 (7).
    let out: Vec<i64> = collect(&env, windows).into_iter().map(|e| e.1).collect();
    assert_eq!(out, vec![1, 3, 7]);
}

#[test]
fn count_trigger_on_event_time_windows_fires_early_and_the_cleanup_drops_the_rest() {
    let env = env(1);
    let input = "a:1@1 a:2@2 a:3@3 a:4@4 a:5@12";
    let windows = source(&env, input)
        .key_by(key)
        .window(TumblingEventTimeWindows::of(ms(10)))
        .trigger(CountTrigger::of(2))
        .reduce(sum);
    // Without purging each firing sees everything so far; 4 and 5 at 12 do not fill a count.
    let out: Vec<i64> = collect(&env, windows).into_iter().map(|e| e.1).collect();
    assert_eq!(out, vec![3, 10]);
}

#[test]
fn a_merging_assigner_refuses_a_trigger_that_cannot_merge() {
    let env = env(1);
    let delta = brook_api::window::DeltaTrigger::of(1.0, |a: &Event, b: &Event| (b.1 - a.1) as f64);
    source(&env, "a:1@1")
        .key_by(key)
        .window(EventTimeSessionWindows::with_gap(ms(10)))
        .trigger(delta)
        .reduce(sum)
        .discard();
    let message = run(&env, "bad trigger").unwrap_err().to_string();
    assert!(message.contains("cannot be used with a trigger that does not support merging"), "{message}");
}

#[test]
fn global_windows_without_a_trigger_never_fire() {
    let env = env(1);
    let out = collect(&env, source(&env, "a:1@1 a:2@2").key_by(key).window(GlobalWindows::create()).reduce(sum));
    assert!(out.is_empty());
}

#[test]
fn pending_processing_time_windows_do_not_fire_at_end_of_input() {
    // Flink (streaming mode) drops pending processing-time timers when the input ends.
    let env = env(2);
    let windows = source(&env, "a:1@1 b:2@2")
        .key_by(key)
        .window(TumblingProcessingTimeWindows::of(Duration::from_secs(3600)))
        .reduce(sum);
    assert!(collect(&env, windows).is_empty());
}

#[test]
fn processing_time_windows_fire_on_the_clock_while_the_job_runs() {
    // The socket stays open well after the lines, so every 20 ms window ends.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        for i in 0..30 {
            conn.write_all(format!("{}\n", if i % 3 == 0 { "x" } else { "y" }).as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(500));
    });
    let env = env(2);
    let counts = env
        .socket_text_stream("127.0.0.1", port)
        .map(|w: String| (w, 1i64))
        .key_by(|(w, _): &(String, i64)| w.clone())
        .window(TumblingProcessingTimeWindows::of(ms(20)))
        .reduce(|a, b| (a.0, a.1 + b.1));
    let out = collect(&env, with_timestamps(counts));
    let total = |w: &str| out.iter().filter(|((k, _), _)| k == w).map(|((_, n), _)| n).sum::<i64>();
    assert_eq!((total("x"), total("y")), (10, 20), "every record counted once: {out:?}");
    assert!(out.iter().all(|(_, ts)| ts % 20 == 19), "results carry window end - 1: {out:?}");
}

/// A TCP server for one connection that sends the lines the test passes to it
/// and closes the connection when the sender is dropped.
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

/// Emits each record's timestamp − 1 right away.
struct EveryEvent;

impl WatermarkGenerator<(String, i64)> for EveryEvent {
    fn on_event(&mut self, _: &(String, i64), timestamp: i64, output: &mut WatermarkOutput) {
        output.emit_watermark(Watermark(timestamp - 1));
    }
}

#[test]
fn a_window_fires_once_an_idle_input_is_marked_idle_and_not_before() {
    const IDLENESS: Duration = Duration::from_millis(300);
    let (quiet_port, quiet) = line_server();
    let (busy_port, busy) = line_server();
    let env = env(1);
    env.set_buffer_timeout(0);
    env.set_auto_watermark_interval(ms(10));
    let parse = |line: String| {
        let (k, ts) = line.split_once(',').expect("key,timestamp");
        (k.to_string(), ts.parse::<i64>().expect("a timestamp"))
    };
    let quiet_stream = env.socket_text_stream("127.0.0.1", quiet_port).map(parse).assign_timestamps_and_watermarks(
        WatermarkStrategy::for_monotonous_timestamps()
            .with_timestamp_assigner(|e: &(String, i64), _| e.1)
            .with_idleness(IDLENESS),
    );
    let busy_stream = env.socket_text_stream("127.0.0.1", busy_port).map(parse).assign_timestamps_and_watermarks(
        WatermarkStrategy::for_generator(|| EveryEvent).with_timestamp_assigner(|e: &(String, i64), _| e.1),
    );
    let counts = quiet_stream
        .union([busy_stream])
        .map(|(k, _): (String, i64)| (k, 1i64))
        .key_by(|(k, _): &(String, i64)| k.clone())
        .window(TumblingEventTimeWindows::of(ms(10)))
        .reduce(|a, b| (a.0, a.1 + b.1))
        .collect();
    let started = Instant::now();
    let client = env.execute_async("idle input").unwrap();
    // The busy input's watermark reaches 11 at once; the quiet one holds event
    // time back until it is marked idle.
    for line in ["a,1", "a,5", "a,12"] {
        busy.send(line.to_string()).unwrap();
    }
    let mut fired = Vec::new();
    while fired.is_empty() && started.elapsed() < JOB_DEADLINE {
        std::thread::sleep(Duration::from_millis(5));
        fired.extend(counts.take());
    }
    let fired_after = started.elapsed();
    drop((quiet, busy));
    assert_eq!(fired, vec![("a".to_string(), 2)], "[0, 10) fired with its two records");
    assert!(fired_after >= IDLENESS, "fired after {fired_after:?}, before the quiet input could be idle");
    client.wait_for_result().unwrap();
    assert_eq!(counts.take(), vec![("a".to_string(), 1)], "[10, 20) fires at end of input");
}

/// One job computing tumbling sums, sliding sums and session contents.
fn three_windows(spec: &str, parallelism: usize) -> (Vec<Event>, Vec<Event>, Vec<Session>) {
    let env = env_with_slots(4, parallelism);
    let events = source(&env, spec);
    let tumbling = events.clone().key_by(key).window(TumblingEventTimeWindows::of(ms(10))).reduce(sum).collect();
    let sliding = events.clone().key_by(key).window(SlidingEventTimeWindows::of(ms(10), ms(5))).reduce(sum).collect();
    let sessions = events
        .key_by(key)
        .window(EventTimeSessionWindows::with_gap(ms(7)))
        .process(
            |k: &String,
             ctx: &mut ProcessWindowContext<'_, String, TimeWindow>,
             e: WindowElements<'_, Event>,
             out: &mut Collector<Session>| {
                let mut values: Vec<i64> = e.map(|e| e.1).collect();
                values.sort();
                out.collect((k.clone(), ctx.window().start, ctx.window().end, values));
            },
        )
        .collect();
    run(&env, "three windows").unwrap();
    (sorted(tumbling.take()), sorted(sliding.take()), sorted(sessions.take()))
}

fn arbitrary_spec() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        4 => (0u8..4, 0i64..100, 0i64..60).prop_map(|(k, v, t)| format!("k{k}:{v}@{t}")),
        1 => (0i64..60).prop_map(|w| format!("wm:{w}")),
    ];
    proptest::collection::vec(item, 1..40).prop_map(|items| items.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Out-of-order input with watermarks and late records: the same multisets
    /// of results at parallelism 1 and 4.
    #[test]
    fn window_results_do_not_depend_on_parallelism(spec in arbitrary_spec()) {
        prop_assert_eq!(three_windows(&spec, 1), three_windows(&spec, 4));
    }
}
