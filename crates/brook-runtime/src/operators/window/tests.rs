//! The window operator driven directly: elements, watermarks and clock ticks in
//! a chosen order, and the exact output (records with timestamps, watermarks)
//! checked by hand against Flink's semantics.

// ProcessWindowFunctions keyed by String take `&String`.
#![allow(clippy::ptr_arg)]

use super::*;
use crate::functions::RuntimeMode;
use crate::key_selector::OwnedKey;
use crate::metrics::MetricRegistry;
use crate::processing_time::ProcessingTimeService;
use crate::side_output::SideOutput;
use crate::window::*;
use brook_types::{JobId, WatermarkStatus};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

type In = (String, i64);
type Key = OwnedKey<fn(&In) -> String, String>;

fn key_of(r: &In) -> String {
    r.0.clone()
}

fn key_selector() -> Key {
    OwnedKey::new(key_of as fn(&In) -> String)
}

fn runtime() -> RuntimeContext {
    RuntimeContext {
        job_id: JobId(0),
        task_name: "test".into(),
        operator_name: "Window".into(),
        subtask_index: 0,
        parallelism: 1,
        max_parallelism: 128,
        attempt_number: 0,
        runtime_mode: RuntimeMode::Streaming,
        metrics: MetricRegistry::default(),
        processing_time: ProcessingTimeService::new(),
        auto_watermark_interval: Duration::from_millis(200),
        checkpointing: false,
        state_backend: Default::default(),
    }
}

/// What reached an output, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen<O> {
    Records(Vec<(O, Timestamp)>),
    Watermark(Timestamp),
    Status(WatermarkStatus),
}

struct Shared<O>(Arc<Mutex<Vec<Seen<O>>>>);

impl<O> Clone for Shared<O> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<O: Send> Output<O> for Shared<O> {
    fn collect(&mut self, batch: Batch<O>) {
        self.0.lock().push(Seen::Records(batch.into_iter().map(|r| (r.value, r.timestamp)).collect()));
    }
    fn emit_watermark(&mut self, watermark: Watermark) {
        self.0.lock().push(Seen::Watermark(watermark.0));
    }
    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.0.lock().push(Seen::Status(status));
    }
    fn end_input(&mut self) {}
}

impl<O> Shared<O> {
    fn new() -> Self {
        Shared(Arc::new(Mutex::new(Vec::new())))
    }
    fn take(&self) -> Vec<Seen<O>> {
        std::mem::take(&mut *self.0.lock())
    }
}

struct Harness<O, A, Tr, F>
where
    A: WindowAssigner<In>,
    Tr: Trigger<In, A::Window>,
    F: InternalWindowFunction<String, A::Window, In, O>,
{
    op: WindowOperator<In, O, Key, A, Tr, F>,
    out: Shared<O>,
    late: Shared<In>,
    runtime: RuntimeContext,
}

const LATE: &str = "late";

/// A harness for an operator with `allowed_lateness` (ms); with `late_tag`,
/// late elements go to the side output [`LATE`].
fn harness<O, A, Tr, F>(
    assigner: A,
    trigger: Tr,
    function: F,
    allowed_lateness: i64,
    late_tag: bool,
) -> Harness<O, A, Tr, F>
where
    O: Send + 'static,
    A: WindowAssigner<In>,
    Tr: Trigger<In, A::Window>,
    F: InternalWindowFunction<String, A::Window, In, O>,
{
    let runtime = runtime();
    let late = Shared::new();
    let side: Box<dyn crate::side_output::ErasedSideOutput> = Box::new(SideOutput::new(Box::new(late.clone())));
    let sides = SideOutputs::new(vec![(LATE.to_string(), side)]);
    let op = WindowOperator::new(key_selector(), assigner, trigger, function, runtime.clone(), sides)
        .with_allowed_lateness(allowed_lateness)
        .with_late_data_tag(late_tag.then(|| OutputTag::new(LATE)));
    Harness { op, out: Shared::new(), late, runtime }
}

impl<O, A, Tr, F> Harness<O, A, Tr, F>
where
    O: Send + 'static,
    A: WindowAssigner<In>,
    Tr: Trigger<In, A::Window>,
    F: InternalWindowFunction<String, A::Window, In, O>,
{
    fn element(&mut self, key: &str, value: i64, timestamp: Timestamp) {
        let mut out = self.out.clone();
        self.op.process_batch(vec![StreamRecord::with_timestamp((key.to_string(), value), timestamp)], &mut out);
    }

    fn watermark(&mut self, t: Timestamp) {
        let mut out = self.out.clone();
        self.op.process_watermark(Watermark(t), &mut out);
    }

    fn clock(&mut self, now: Timestamp) {
        let mut out = self.out.clone();
        self.op.on_processing_time(now, &mut out);
    }

    fn take(&self) -> Vec<Seen<O>> {
        self.out.take()
    }

    fn dropped(&self) -> i64 {
        self.runtime.metrics.accumulator("Window.numLateRecordsDropped").get()
    }

    fn num_timers(&self) -> usize {
        self.op.num_timers()
    }
}

fn recs<O: Clone>(records: &[(O, Timestamp)]) -> Seen<O> {
    Seen::Records(records.to_vec())
}

fn kv(k: &str, v: i64) -> In {
    (k.to_string(), v)
}

fn sum(a: In, b: In) -> In {
    (a.0, a.1 + b.1)
}

fn sum_function() -> ReducingWindowFunction<fn(In, In) -> In, PassThrough, In> {
    ReducingWindowFunction::commutative(sum as fn(In, In) -> In, PassThrough)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Emits (key, window start, window end, values in order).
fn describe_window(
    key: &String,
    ctx: &mut ProcessWindowContext<'_, String, TimeWindow>,
    elements: WindowElements<'_, In>,
    out: &mut Collector<(String, i64, i64, Vec<i64>)>,
) {
    let w = *ctx.window();
    out.collect((key.clone(), w.start, w.end, elements.map(|e| e.1).collect()));
}

type Described = (String, i64, i64, Vec<i64>);
type DescribeFn =
    fn(&String, &mut ProcessWindowContext<'_, String, TimeWindow>, WindowElements<'_, In>, &mut Collector<Described>);

fn describe_function() -> ListWindowFunction<DescribeFn, In> {
    ListWindowFunction::new(describe_window as DescribeFn)
}

#[test]
fn tumbling_event_time_windows_fire_in_order_at_the_watermark() {
    let a = TumblingEventTimeWindows::of(ms(10));
    let mut h = harness(a, EventTimeTrigger, sum_function(), 0, false);
    h.element("a", 1, 1);
    h.element("a", 2, 12);
    h.element("a", 3, 5); // out of order, still in [0, 10)
    h.element("b", 4, 3);
    assert_eq!(h.take(), vec![], "nothing fires before the watermark");
    h.watermark(9);
    // [0, 10) of a (registered first) then of b; results carry max timestamp 9.
    assert_eq!(h.take(), vec![recs(&[(kv("a", 4), 9), (kv("b", 4), 9)]), Seen::Watermark(9)]);
    h.element("a", 5, 15);
    h.watermark(19);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 7), 19)]), Seen::Watermark(19)]);
    assert_eq!(h.op.num_keys_with_windows(), 0, "fired windows without lateness are cleaned up");
    assert_eq!(h.num_timers(), 0);
}

#[test]
fn late_elements_within_the_allowed_lateness_fire_again_and_beyond_it_are_dropped() {
    let a = TumblingEventTimeWindows::of(ms(10));
    let mut h = harness(a, EventTimeTrigger, sum_function(), 5, false);
    h.element("a", 1, 1);
    h.watermark(9);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 1), 9)]), Seen::Watermark(9)]);
    // Late, but 9 + 5 > 9: added, and EventTimeTrigger fires at once with the update.
    h.element("a", 10, 2);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 11), 9)])]);
    h.watermark(13);
    h.element("a", 100, 4); // 9 + 5 = 14 > 13: one more late firing
    assert_eq!(h.take(), vec![Seen::Watermark(13), recs(&[(kv("a", 111), 9)])]);
    // The cleanup timer at 14 removes the window without firing.
    h.watermark(14);
    assert_eq!(h.take(), vec![Seen::Watermark(14)]);
    assert_eq!(h.op.num_keys_with_windows(), 0);
    // Now [0, 10) is late (14 <= 14), and so is every element with ts + 5 <= 14.
    h.element("a", 1000, 3);
    h.element("a", 1000, 9);
    assert_eq!(h.dropped(), 2);
    h.element("a", 7, 10); // the next window is fine
    h.watermark(19);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 7), 19)]), Seen::Watermark(19)]);
    assert_eq!(h.dropped(), 2);
    assert!(h.late.take().iter().all(|s| matches!(s, Seen::Watermark(_))), "no side output configured");
}

#[test]
fn late_elements_go_to_the_side_output_with_their_own_timestamp() {
    let a = TumblingEventTimeWindows::of(ms(10));
    let mut h = harness(a, EventTimeTrigger, sum_function(), 0, true);
    h.element("a", 1, 1);
    h.watermark(9);
    h.element("a", 2, 9); // the window [0, 10) is late at watermark 9
    h.element("b", 3, 10);
    h.watermark(20);
    assert_eq!(
        h.take(),
        vec![recs(&[(kv("a", 1), 9)]), Seen::Watermark(9), recs(&[(kv("b", 3), 19)]), Seen::Watermark(20)]
    );
    // The side output carries the watermarks too.
    assert_eq!(h.late.take(), vec![Seen::Watermark(9), recs(&[(kv("a", 2), 9)]), Seen::Watermark(20)]);
    assert_eq!(h.dropped(), 0, "side-output elements are not counted as dropped");
}

#[test]
fn watermark_statuses_reach_the_main_and_the_late_data_output() {
    let mut h = harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, sum_function(), 0, true);
    let mut out = h.out.clone();
    h.op.process_watermark_status(WatermarkStatus::Idle, &mut out);
    assert_eq!(h.take(), vec![Seen::Status(WatermarkStatus::Idle)]);
    assert_eq!(h.late.take(), vec![Seen::Status(WatermarkStatus::Idle)]);
}

#[test]
fn sliding_windows_take_an_element_into_the_windows_that_are_not_late() {
    let a = SlidingEventTimeWindows::of(ms(10), ms(5));
    let mut h = harness(a, EventTimeTrigger, sum_function(), 0, false);
    h.element("a", 1, 3); // [0, 10), [-5, 5)
    h.element("a", 10, 7); // [5, 15), [0, 10)
    h.watermark(12); // fires [-5, 5) at 4 and [0, 10) at 9
    assert_eq!(h.take(), vec![recs(&[(kv("a", 1), 4), (kv("a", 11), 9)]), Seen::Watermark(12)]);
    // ts 8: [5, 15) is open, [0, 10) is late: taken, not counted as dropped.
    h.element("a", 100, 8);
    assert_eq!(h.dropped(), 0);
    // ts 3: both windows late, and the element is late: dropped.
    h.element("a", 1000, 3);
    assert_eq!(h.dropped(), 1);
    h.watermark(i64::MAX);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 110), 14)]), Seen::Watermark(i64::MAX)]);
}

#[test]
fn an_element_between_sliding_windows_is_ignored_but_not_late() {
    // slide > size: [0, 3), [5, 8), … ; ts 4 falls in no window.
    let a = SlidingEventTimeWindows::of(ms(3), ms(5));
    let mut h = harness(a, EventTimeTrigger, sum_function(), 0, false);
    h.element("a", 1, 4);
    h.element("a", 2, 1);
    h.watermark(i64::MAX);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 2), 2)]), Seen::Watermark(i64::MAX)]);
    assert_eq!(h.dropped(), 0);
}

#[test]
fn a_bridging_element_merges_two_sessions_into_one() {
    let a = EventTimeSessionWindows::with_gap(ms(10));
    let mut h = harness(a, EventTimeTrigger, describe_function(), 0, false);
    h.element("a", 1, 0); // [0, 10)
    h.element("a", 2, 18); // [18, 28)
    h.element("b", 5, 5); // [5, 15) of another key
    h.element("a", 4, 9); // [9, 19) touches both: [0, 28)
    h.watermark(9);
    assert_eq!(h.take(), vec![Seen::Watermark(9)], "the timer of [0, 10) was deleted by the merge");
    h.watermark(27);
    // The merged session holds the elements of its earliest part first.
    assert_eq!(
        h.take(),
        vec![
            recs(&[(("b".into(), 5, 15, vec![5]), 14), (("a".into(), 0, 28, vec![1, 2, 4]), 27)]),
            Seen::Watermark(27)
        ]
    );
    assert_eq!(h.op.num_keys_with_windows(), 0);
    assert_eq!(h.num_timers(), 0);
}

#[test]
fn sessions_extend_and_late_sessions_are_dropped() {
    let a = EventTimeSessionWindows::with_gap(ms(10));
    let mut h = harness(a, EventTimeTrigger, describe_function(), 0, true);
    h.element("a", 1, 0);
    h.element("a", 2, 5); // [0, 15)
    h.element("a", 3, 2); // inside: no merge
    h.watermark(14);
    assert_eq!(h.take(), vec![recs(&[(("a".into(), 0, 15, vec![1, 2, 3]), 14)]), Seen::Watermark(14)]);
    h.element("a", 4, 3); // [3, 13) is late at 14: retired, side output
    h.element("a", 5, 10); // [10, 20) is not
    h.watermark(i64::MAX);
    assert_eq!(h.take(), vec![recs(&[(("a".into(), 10, 20, vec![5]), 19)]), Seen::Watermark(i64::MAX)]);
    assert_eq!(h.late.take(), vec![Seen::Watermark(14), recs(&[(kv("a", 4), 3)]), Seen::Watermark(i64::MAX)]);
    assert_eq!(h.op.num_keys_with_windows(), 0);
}

#[test]
fn a_late_element_within_lateness_merges_into_a_fired_session_and_fires_it_again() {
    let a = EventTimeSessionWindows::with_gap(ms(10));
    let mut h = harness(a, EventTimeTrigger, sum_function(), 20, false);
    h.element("a", 1, 0); // [0, 10)
    h.watermark(9);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 1), 9)]), Seen::Watermark(9)]);
    // [5, 15) merges into [0, 15): max 14 > watermark 9, so the trigger waits for 14.
    h.element("a", 2, 5);
    assert_eq!(h.take(), vec![]);
    h.watermark(14);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 3), 14)]), Seen::Watermark(14)]);
    // [1, 11) falls inside [0, 15), which is past its end: fires at once.
    h.element("a", 4, 1);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 7), 14)])]);
    h.watermark(34); // cleanup at 14 + 20
    assert_eq!(h.take(), vec![Seen::Watermark(34)]);
    assert_eq!(h.op.num_keys_with_windows(), 0);
    assert_eq!(h.num_timers(), 0);
}

#[test]
fn dynamic_session_gaps_come_from_the_element() {
    let a = EventTimeSessionWindows::with_dynamic_gap(|e: &In| Duration::from_millis(e.1 as u64));
    let mut h = harness(a, EventTimeTrigger, describe_function(), 0, false);
    h.element("a", 3, 0); // [0, 3)
    h.element("a", 10, 5); // [5, 15): no overlap
    h.element("a", 2, 3); // [3, 5) touches both: [0, 15)
    h.element("b", 1, 0); // [0, 1)
    h.watermark(i64::MAX);
    assert_eq!(
        h.take(),
        vec![
            recs(&[(("b".into(), 0, 1, vec![1]), 0), (("a".into(), 0, 15, vec![3, 10, 2]), 14)]),
            Seen::Watermark(i64::MAX)
        ]
    );
}

#[test]
fn count_triggers_merge_their_counts_in_sessions() {
    let a = EventTimeSessionWindows::with_gap(ms(10));
    let mut h = harness(a, CountTrigger::of(3), describe_function(), 0, false);
    h.element("a", 1, 0);
    h.element("a", 2, 20);
    h.element("a", 3, 10); // [10, 20) bridges [0, 10) and [20, 30): count 1 + 1 + 1 = 3
    assert_eq!(h.take(), vec![recs(&[(("a".into(), 0, 30, vec![1, 2, 3]), 29)])]);
    // [25, 35) extends the session to [0, 35); the count restarted after the firing.
    h.element("a", 4, 25);
    assert_eq!(h.take(), vec![]);
    assert_eq!(h.op.keys.values().next().map(|k| (k.merging.len(), k.trigger_states.len())), Some((1, 1)));
    h.watermark(33);
    assert_eq!(h.op.num_keys_with_windows(), 1);
    h.watermark(34); // the cleanup timer removes the session without firing (count trigger)
    assert_eq!(h.take(), vec![Seen::Watermark(33), Seen::Watermark(34)]);
    assert_eq!(h.op.num_keys_with_windows(), 0);
}

#[test]
fn purging_count_trigger_on_global_windows_is_a_tumbling_count_window() {
    let mut h = harness(GlobalWindows::create(), PurgingTrigger::of(CountTrigger::of(3)), sum_function(), 0, false);
    for v in 1..=7 {
        h.element("a", v, v);
    }
    h.element("b", 100, 0);
    h.watermark(i64::MAX);
    // Count windows carry the global window's max timestamp; 7 and b's 100 never fire.
    assert_eq!(
        h.take(),
        vec![recs(&[(kv("a", 6), i64::MAX)]), recs(&[(kv("a", 15), i64::MAX)]), Seen::Watermark(i64::MAX)]
    );
    assert_eq!(h.op.num_keys_with_windows(), 2, "global windows are never cleaned up");
}

#[test]
fn global_windows_fire_at_end_of_input_only_with_the_end_of_stream_trigger() {
    let mut never = harness(GlobalWindows::create(), NeverTrigger, sum_function(), 0, false);
    let mut end =
        harness(GlobalWindows::create_with_end_of_stream_trigger(), EndOfStreamTrigger, sum_function(), 0, false);
    for v in 1..=3 {
        never.element("a", v, v);
        end.element("a", v, v);
    }
    never.watermark(i64::MAX);
    end.watermark(i64::MAX);
    assert_eq!(never.take(), vec![Seen::Watermark(i64::MAX)]);
    assert_eq!(end.take(), vec![recs(&[(kv("a", 6), i64::MAX)]), Seen::Watermark(i64::MAX)]);
}

#[test]
fn continuous_event_time_trigger_fires_every_interval_and_at_the_end() {
    let a = TumblingEventTimeWindows::of(ms(10));
    let mut h = harness(a, ContinuousEventTimeTrigger::of(ms(4)), sum_function(), 0, false);
    h.element("a", 1, 1); // first interval firing at 1 - 1 % 4 + 4 = 4
    h.watermark(4);
    h.element("a", 2, 5);
    h.watermark(8); // next at 8
    h.watermark(9); // next would be min(12, 9) = 9: the window's end
    assert_eq!(
        h.take(),
        vec![
            recs(&[(kv("a", 1), 9)]),
            Seen::Watermark(4),
            recs(&[(kv("a", 3), 9)]),
            Seen::Watermark(8),
            recs(&[(kv("a", 3), 9)]),
            Seen::Watermark(9)
        ]
    );
    assert_eq!(h.op.num_keys_with_windows(), 0);
}

#[test]
fn purging_event_time_trigger_with_lateness_fires_only_the_late_elements() {
    let a = TumblingEventTimeWindows::of(ms(10));
    let mut h = harness(a, PurgingTrigger::of(EventTimeTrigger), sum_function(), 10, false);
    h.element("a", 1, 1);
    h.element("a", 2, 2);
    h.watermark(9);
    h.element("a", 4, 3);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 3), 9)]), Seen::Watermark(9), recs(&[(kv("a", 4), 9)])]);
}

#[test]
fn delta_trigger_fires_when_an_element_moves_far_enough() {
    let trigger = DeltaTrigger::of(5.0, |old: &In, new: &In| (new.1 - old.1) as f64);
    let mut h = harness(GlobalWindows::create(), trigger, sum_function(), 0, false);
    for v in [1, 3, 7, 8, 13] {
        h.element("a", v, 0);
    }
    // 7 - 1 > 5 fires 1+3+7; 13 - 7 > 5 fires everything (no purge).
    assert_eq!(h.take(), vec![recs(&[(kv("a", 11), i64::MAX)]), recs(&[(kv("a", 32), i64::MAX)])]);
}

/// An average as an AggregateFunction: (sum, count).
#[derive(Clone)]
struct Average;

impl AggregateFunction<In> for Average {
    type Acc = (i64, i64);
    type Out = f64;
    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }
    fn add(&self, acc: &mut (i64, i64), value: In) {
        acc.0 += value.1;
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
fn aggregate_merges_accumulators_of_merged_sessions() {
    let a = EventTimeSessionWindows::with_gap(ms(10));
    let mut h = harness(a, EventTimeTrigger, AggregatingWindowFunction::new(Average, PassThrough), 0, false);
    h.element("a", 1, 0);
    h.element("a", 2, 30);
    h.element("a", 6, 15); // [15, 25) bridges nothing: [0,10) and [30,40) stay apart
    h.element("a", 3, 22); // [22, 32) joins [15, 25) and [30, 40): avg (2 + 6 + 3) / 3
    h.watermark(i64::MAX);
    assert_eq!(h.take(), vec![recs(&[(1.0, 9), (11.0 / 3.0, 39)]), Seen::Watermark(i64::MAX)]);
}

/// Counts its firings per window (per-window state) and per key (global state);
/// records the windows it is asked to clear.
#[derive(Clone)]
struct CountFirings {
    cleared: Arc<Mutex<Vec<(String, i64, Option<u32>)>>>,
}

type Firing = (String, i64, u32, u32, i64);

impl ProcessWindowFunction<String, TimeWindow, In, Firing> for CountFirings {
    fn process(
        &mut self,
        key: &String,
        ctx: &mut ProcessWindowContext<'_, String, TimeWindow>,
        elements: WindowElements<'_, In>,
        out: &mut Collector<Firing>,
    ) {
        let sum: i64 = elements.map(|e| e.1).sum();
        let start = ctx.window().start;
        let in_window = {
            let n = ctx.window_state().get_or_default::<u32>("firings");
            *n += 1;
            *n
        };
        let for_key = {
            let n = ctx.global_state().get_or_default::<u32>("firings");
            *n += 1;
            *n
        };
        assert_eq!(ctx.key(), key);
        out.collect((key.clone(), start, in_window, for_key, sum));
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, String, TimeWindow>) {
        let start = ctx.window().start;
        let key = ctx.key().clone();
        let firings = ctx.window_state().get::<u32>("firings").copied();
        self.cleared.lock().push((key, start, firings));
    }
}

#[test]
fn reduce_with_a_process_function_sees_per_window_and_global_state() {
    let cleared = Arc::new(Mutex::new(Vec::new()));
    let function = ReducingWindowFunction::new(sum as fn(In, In) -> In, CountFirings { cleared: cleared.clone() });
    let mut h = harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, function, 10, false);
    h.element("a", 1, 1);
    h.element("a", 2, 12);
    h.watermark(9);
    h.element("a", 4, 5); // late firing of [0, 10)
    h.watermark(19); // fires [10, 20); cleans up [0, 10) at 19
    h.watermark(29); // cleans up [10, 20)
    assert_eq!(
        h.take(),
        vec![
            recs(&[(("a".into(), 0, 1, 1, 1), 9)]),
            Seen::Watermark(9),
            recs(&[(("a".into(), 0, 2, 2, 5), 9)]),
            recs(&[(("a".into(), 10, 1, 3, 2), 19)]),
            Seen::Watermark(19),
            Seen::Watermark(29)
        ]
    );
    assert_eq!(*cleared.lock(), vec![("a".to_string(), 0, Some(2)), ("a".to_string(), 10, Some(1))]);
    assert!(h.op.keys.is_empty(), "per-window state is dropped with the window");
    assert_eq!(h.op.global_states.len(), 1, "global state outlives the windows");
}

#[test]
#[should_panic(expected = "Per-window state is not allowed when using merging windows.")]
fn per_window_state_is_refused_for_merging_windows() {
    let function = ListWindowFunction::new(CountFirings { cleared: Arc::default() });
    let mut h = harness(EventTimeSessionWindows::with_gap(ms(10)), EventTimeTrigger, function, 0, false);
    h.element("a", 1, 1);
    h.watermark(i64::MAX);
}

/// A processing-time window far wider than the clock: every element lands in
/// [0, 10^15), so the test controls when it fires.
const WIDE: u64 = 1_000_000_000_000_000;

#[test]
fn processing_time_windows_fire_on_the_clock_and_ignore_watermarks() {
    let a = TumblingProcessingTimeWindows::of(ms(WIDE));
    let mut h = harness(a, ProcessingTimeTrigger, sum_function(), 0, false);
    h.element("a", 1, brook_types::NO_TIMESTAMP);
    h.element("a", 2, 5);
    h.watermark(i64::MAX);
    assert_eq!(h.take(), vec![Seen::Watermark(i64::MAX)], "processing-time windows ignore event time");
    let end = WIDE as i64 - 1;
    assert_eq!(h.runtime.processing_time.next_deadline(), Some(end));
    h.clock(end - 1);
    assert_eq!(h.take(), vec![]);
    h.clock(end);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 3), end)])]);
    assert_eq!(h.op.num_keys_with_windows(), 0, "cleaned up at the window's end");
    assert_eq!(h.dropped(), 0, "nothing is late in processing time");
}

#[test]
fn processing_time_sessions_merge() {
    let a = ProcessingTimeSessionWindows::with_gap(ms(WIDE));
    let mut h = harness(a, ProcessingTimeTrigger, sum_function(), 0, false);
    h.element("a", 1, 0);
    h.element("a", 2, 0); // opens [now', now' + gap), merging with the first
    assert_eq!(h.op.keys.values().next().map(|k| k.merging.len()), Some(1));
    h.clock(i64::MAX - 1);
    assert_eq!(h.take().len(), 1);
    assert_eq!(h.op.num_keys_with_windows(), 0);
}

#[test]
fn continuous_processing_time_trigger_fires_on_aligned_ticks() {
    let a = TumblingProcessingTimeWindows::of(ms(WIDE));
    let mut h = harness(a, ContinuousProcessingTimeTrigger::of(ms(1000)), sum_function(), 0, false);
    h.element("a", 5, 0);
    let first = h.runtime.processing_time.next_deadline().expect("a firing time");
    assert_eq!(first % 1000, 0, "aligned to the interval");
    h.clock(first);
    h.element("a", 6, 0);
    h.clock(first + 1000);
    assert_eq!(h.take(), vec![recs(&[(kv("a", 5), WIDE as i64 - 1)]), recs(&[(kv("a", 11), WIDE as i64 - 1)])]);
}

fn values(
    key: &String,
    _: &mut ProcessWindowContext<'_, String, TimeWindow>,
    e: WindowElements<'_, In>,
    out: &mut Collector<(String, Vec<i64>)>,
) {
    out.collect((key.clone(), e.map(|e| e.1).collect()));
}

type ValuesFn = fn(
    &String,
    &mut ProcessWindowContext<'_, String, TimeWindow>,
    WindowElements<'_, In>,
    &mut Collector<(String, Vec<i64>)>,
);

fn global_values(
    key: &String,
    _: &mut ProcessWindowContext<'_, String, GlobalWindow>,
    e: WindowElements<'_, In>,
    out: &mut Collector<(String, Vec<i64>)>,
) {
    out.collect((key.clone(), e.map(|e| e.1).collect()));
}

type GlobalValuesFn = fn(
    &String,
    &mut ProcessWindowContext<'_, String, GlobalWindow>,
    WindowElements<'_, In>,
    &mut Collector<(String, Vec<i64>)>,
);

fn values_of(out: Vec<Seen<(String, Vec<i64>)>>) -> Vec<Vec<i64>> {
    out.into_iter()
        .flat_map(|s| match s {
            Seen::Records(r) => r.into_iter().map(|((_, v), _)| v).collect::<Vec<_>>(),
            Seen::Watermark(_) | Seen::Status(_) => Vec::new(),
        })
        .collect()
}

#[test]
fn count_evictor_before_the_function_keeps_the_last_elements() {
    let f = EvictingWindowFunction::new(CountEvictor::of(2), values as ValuesFn);
    let mut h = harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, f, 0, false);
    for (v, ts) in [(1, 1), (2, 5), (3, 2)] {
        h.element("a", v, ts);
    }
    h.watermark(9);
    // arrival order, not timestamp order: 1 is the oldest
    assert_eq!(h.take(), vec![recs(&[(("a".to_string(), vec![2, 3]), 9)]), Seen::Watermark(9)]);
    assert_eq!(h.op.num_keys_with_windows(), 0);
}

#[test]
fn count_evictor_after_the_function_shrinks_what_the_next_firing_sees() {
    let f = EvictingWindowFunction::new(CountEvictor::of_after(1, true), global_values as GlobalValuesFn);
    let mut h = harness(GlobalWindows::create(), CountTrigger::of(2), f, 0, false);
    for v in 1..=5 {
        h.element("a", v, v);
    }
    // fires [1, 2] then keeps [2]; fires [2, 3, 4] then keeps [4]; 5 waits
    assert_eq!(values_of(h.take()), vec![vec![1, 2], vec![2, 3, 4]]);
    let left: Vec<i64> =
        h.op.panes.values().flatten().flat_map(|(_, p)| p.contents.iter().flatten().map(|r| r.value.1)).collect();
    assert_eq!(left, vec![4, 5]);
}

#[test]
fn sliding_count_window_is_a_count_trigger_with_a_count_evictor() {
    let f = EvictingWindowFunction::new(CountEvictor::of(3), global_values as GlobalValuesFn);
    let mut h = harness(GlobalWindows::create(), CountTrigger::of(2), f, 0, false);
    for v in 1..=7 {
        h.element("a", v, v);
    }
    assert_eq!(values_of(h.take()), vec![vec![1, 2], vec![2, 3, 4], vec![4, 5, 6]]);
}

#[test]
fn time_evictor_keeps_what_is_close_to_the_newest_element() {
    let f = EvictingWindowFunction::new(TimeEvictor::of(ms(10)), values as ValuesFn);
    let mut h = harness(TumblingEventTimeWindows::of(ms(100)), EventTimeTrigger, f, 0, false);
    for (v, ts) in [(1, 1), (2, 55), (3, 50), (4, 60)] {
        h.element("a", v, ts);
    }
    h.watermark(99);
    // newest 60, cutoff 50: 50 and earlier go
    assert_eq!(values_of(h.take()), vec![vec![2, 4]]);
}

#[test]
fn evicting_reduce_and_aggregate_run_over_what_is_left() {
    let reduce =
        EvictingWindowFunction::new(CountEvictor::of(2), ReduceApply::new(sum as fn(In, In) -> In, PassThrough));
    let mut h = harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, reduce, 5, false);
    for (v, ts) in [(1, 1), (2, 2), (4, 3)] {
        h.element("a", v, ts);
    }
    h.watermark(9);
    h.element("a", 8, 4); // late firing: [2, 4, 8] → last two
    assert_eq!(h.take(), vec![recs(&[(kv("a", 6), 9)]), Seen::Watermark(9), recs(&[(kv("a", 12), 9)])]);

    let delta = DeltaEvictor::of(5.0, |e: &In, last: &In| (last.1 - e.1).abs() as f64);
    let aggregate = EvictingWindowFunction::new(delta, AggregateApply::new(Average, PassThrough));
    let mut h = harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, aggregate, 0, false);
    for (v, ts) in [(1, 1), (9, 2), (7, 3), (10, 4)] {
        h.element("a", v, ts);
    }
    h.watermark(9);
    // distances to 10: 9 (out), 1, 3, 0: average of 9, 7, 10
    assert_eq!(h.take(), vec![recs(&[(26.0 / 3.0, 9)]), Seen::Watermark(9)]);
}

#[test]
fn an_evictor_that_removes_everything_leaves_no_contents() {
    let f = EvictingWindowFunction::new(CountEvictor::of_after(0, true), global_values as GlobalValuesFn);
    let mut h = harness(GlobalWindows::create(), CountTrigger::of(2), f, 0, false);
    for v in 1..=4 {
        h.element("a", v, v);
    }
    assert_eq!(values_of(h.take()), vec![vec![1, 2], vec![3, 4]]);
    assert!(h.op.keys.values().all(|k| k.contents.is_empty()));
}

/// Records of `seen`, sorted (the order across keys is not part of the contract
/// when a restored operator's panes are rebuilt).
fn sorted_records<O: Clone + Ord>(seen: &[Seen<O>]) -> Vec<(O, Timestamp)> {
    let mut all: Vec<(O, Timestamp)> =
        seen.iter().flat_map(|s| if let Seen::Records(r) = s { r.clone() } else { Vec::new() }).collect();
    all.sort();
    all
}

/// Runs `before`, snapshots, restores into `parallelism` fresh operators made by
/// `make` (each owning its key groups), runs `after` on the one owning each
/// element's key, then fires everything; returns every result, sorted.
fn run_with_restore<O, A, Tr, F>(
    make: impl Fn() -> Harness<O, A, Tr, F>,
    before: &[(&str, i64, Timestamp)],
    after: &[(&str, i64, Timestamp)],
    watermark_at_cut: Timestamp,
    parallelism: usize,
) -> Vec<(O, Timestamp)>
where
    O: Send + Clone + Ord + 'static,
    A: WindowAssigner<In>,
    Tr: Trigger<In, A::Window>,
    F: InternalWindowFunction<String, A::Window, In, O>,
{
    let mut first = make();
    for &(k, v, t) in before {
        first.element(k, v, t);
    }
    first.watermark(watermark_at_cut);
    let mut results = sorted_records(&first.take());
    let snapshot = first.op.snapshot_windows().expect("snapshot");
    for index in 0..parallelism {
        let mut h = make();
        h.op.runtime.parallelism = parallelism;
        h.op.runtime.subtask_index = index;
        h.op.restore_windows(std::slice::from_ref(&snapshot.bytes)).expect("restore");
        h.watermark(watermark_at_cut);
        let range = h.op.key_group_range();
        for &(k, v, t) in after {
            if range.contains(brook_types::key_group::assign_to_key_group(&k.to_string(), 128)) {
                h.element(k, v, t);
            }
        }
        h.watermark(i64::MAX);
        results.extend(sorted_records(&h.take()));
    }
    results.sort();
    results
}

fn run_uninterrupted<O, A, Tr, F>(
    make: impl Fn() -> Harness<O, A, Tr, F>,
    before: &[(&str, i64, Timestamp)],
    after: &[(&str, i64, Timestamp)],
    watermark_at_cut: Timestamp,
) -> Vec<(O, Timestamp)>
where
    O: Send + Clone + Ord + 'static,
    A: WindowAssigner<In>,
    Tr: Trigger<In, A::Window>,
    F: InternalWindowFunction<String, A::Window, In, O>,
{
    let mut h = make();
    for &(k, v, t) in before {
        h.element(k, v, t);
    }
    h.watermark(watermark_at_cut);
    for &(k, v, t) in after {
        h.element(k, v, t);
    }
    h.watermark(i64::MAX);
    sorted_records(&h.take())
}

#[test]
fn tumbling_windows_restore_from_a_snapshot_at_any_parallelism() {
    let make = || harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, sum_function(), 0, false);
    let before = [("a", 1, 1), ("b", 2, 3), ("a", 3, 12), ("c", 4, 15), ("b", 5, 9)];
    let after = [("a", 10, 14), ("b", 20, 18), ("c", 30, 25), ("d", 40, 11)];
    let expected = run_uninterrupted(make, &before, &after, 10);
    let mut hand_checked = vec![
        (kv("a", 1), 9),
        (kv("b", 7), 9),
        (kv("a", 13), 19),
        (kv("b", 20), 19),
        (kv("c", 4), 19),
        (kv("d", 40), 19),
        (kv("c", 30), 29),
    ];
    hand_checked.sort();
    assert_eq!(expected, hand_checked);
    for p in [1, 2, 3] {
        assert_eq!(run_with_restore(make, &before, &after, 10, p), expected, "parallelism {p}");
    }
}

#[test]
fn sessions_and_count_triggers_restore_with_their_merges_and_timers() {
    let make =
        || harness(EventTimeSessionWindows::with_gap(ms(10)), CountTrigger::of(3), describe_function(), 0, false);
    // a: [0,10) + [20,30) then 10 bridges them after the restore; b: one session.
    let before = [("a", 1, 0), ("a", 2, 20), ("b", 7, 5), ("b", 8, 7)];
    let after = [("a", 3, 10), ("a", 4, 25), ("b", 9, 9), ("a", 5, 26), ("a", 6, 27)];
    let expected = run_uninterrupted(make, &before, &after, 1);
    assert!(!expected.is_empty());
    for p in [1, 2] {
        assert_eq!(run_with_restore(make, &before, &after, 1, p), expected, "parallelism {p}");
    }
}

/// A ProcessWindowFunction's per-window and per-key state survive a snapshot and
/// restore at parallelism 1 and 2: with allowed lateness, late firings after the
/// restore count on from the firings before it.
#[test]
fn process_window_function_state_is_checkpointed() {
    let make = || {
        let function = ReducingWindowFunction::new(
            sum as fn(In, In) -> In,
            CountFirings { cleared: Arc::new(Mutex::new(Vec::new())) },
        );
        harness(TumblingEventTimeWindows::of(ms(10)), EventTimeTrigger, function, 20, false)
    };
    // Before the cut (watermark 15): [0,10) of a and b fire once; after it, late
    // records fire them again, and [10,20) of a fires for the first time.
    let before = [("a", 1, 1), ("a", 2, 3), ("b", 5, 4), ("a", 3, 12), ("c", 1, 30)];
    let after = [("a", 4, 2), ("b", 6, 8), ("a", 5, 14), ("a", 6, 5)];
    let expected = run_uninterrupted(make, &before, &after, 15);
    let firings: Vec<_> =
        expected.iter().map(|((k, start, w, g, sum), _)| (k.as_str(), *start, *w, *g, *sum)).collect();
    assert!(firings.contains(&("a", 0, 3, 3, 1 + 2 + 4 + 6)), "{firings:?}");
    for p in [1, 2] {
        assert_eq!(run_with_restore(make, &before, &after, 15, p), expected, "parallelism {p}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Sliding windows with allowed lateness: a snapshot at any point, restored
    /// at parallelism 1–3, gives the uninterrupted results.
    #[test]
    fn sliding_windows_with_lateness_restore_to_the_same_results(
        elements in proptest::collection::vec((0usize..4, 1i64..100, 0i64..60), 1..40),
        cut in 0usize..40,
        watermark_at_cut in 0i64..40,
        parallelism in 1usize..4,
    ) {
        let keys = ["a", "b", "c", "d"];
        let all: Vec<(&str, i64, Timestamp)> = elements.iter().map(|&(k, v, t)| (keys[k], v, t)).collect();
        let cut = cut.min(all.len());
        let (before, after) = all.split_at(cut);
        let make = || harness(SlidingEventTimeWindows::of(ms(20), ms(10)), EventTimeTrigger, sum_function(), 5, false);
        let expected = run_uninterrupted(make, before, after, watermark_at_cut);
        proptest::prop_assert_eq!(run_with_restore(make, before, after, watermark_at_cut, parallelism), expected);
    }
}

mod slicing;
