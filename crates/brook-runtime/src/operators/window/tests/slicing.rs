//! Slicing (docs/design/windows.md, "Slicing"): when it applies, and that a
//! slicing operator gives what the pane-per-window operator gives — on random
//! inputs with late elements, interleaved watermarks, and snapshots restored
//! at other parallelisms.

use super::*;

/// A sum that counts as an AggregateFunction whose accumulators copy.
#[derive(Clone)]
struct CopyableSum;

impl AggregateFunction<In> for CopyableSum {
    type Acc = (i64, i64);
    type Out = (i64, i64);
    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }
    fn add(&self, acc: &mut (i64, i64), value: In) {
        acc.0 += value.1;
        acc.1 += 1;
    }
    fn get_result(&self, acc: &(i64, i64)) -> (i64, i64) {
        *acc
    }
    fn merge(&self, acc: &mut (i64, i64), other: (i64, i64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
    fn copy_accumulator(&self, acc: &(i64, i64)) -> Option<(i64, i64)> {
        Some(*acc)
    }
}

fn max_of(a: In, b: In) -> In {
    if b.1 > a.1 { (a.0, b.1) } else { a }
}

fn max_function() -> ReducingWindowFunction<fn(In, In) -> In, PassThrough, In> {
    ReducingWindowFunction::commutative(max_of as fn(In, In) -> In, PassThrough)
}

impl<O, A, Tr, F> Harness<O, A, Tr, F>
where
    O: Send + 'static,
    A: WindowAssigner<In>,
    Tr: Trigger<In, A::Window>,
    F: InternalWindowFunction<String, A::Window, In, O>,
{
    fn without_slicing(self) -> Self {
        Harness { op: self.op.without_slicing(), ..self }
    }
}

fn sliding(size: u64, slide: u64) -> SlidingEventTimeWindows {
    SlidingEventTimeWindows::of(ms(size), ms(slide))
}

#[test]
fn slicing_applies_to_event_time_reduce_and_aggregates_only() {
    assert!(harness(sliding(10, 5), EventTimeTrigger, sum_function(), 0, false).op.is_slicing());
    assert!(harness(sliding(10, 5), EventTimeTrigger, sum_function(), 0, true).op.is_slicing());
    let copyable = AggregatingWindowFunction::new(CopyableSum, PassThrough);
    assert!(harness(sliding(10, 5), EventTimeTrigger, copyable, 0, false).op.is_slicing());
    // Not exact or not worth it: everything else keeps one pane per window.
    let average = AggregatingWindowFunction::new(Average, PassThrough);
    assert!(!harness(sliding(10, 5), EventTimeTrigger, average, 0, false).op.is_slicing());
    assert!(!harness(sliding(10, 5), EventTimeTrigger, sum_function(), 1, false).op.is_slicing());
    assert!(!harness(sliding(10, 5), CountTrigger::of(2), sum_function(), 0, false).op.is_slicing());
    assert!(!harness(sliding(10, 5), PurgingTrigger::of(EventTimeTrigger), sum_function(), 0, false).op.is_slicing());
    assert!(!harness(sliding(10, 4), EventTimeTrigger, sum_function(), 0, false).op.is_slicing());
    assert!(!harness(sliding(3, 5), EventTimeTrigger, sum_function(), 0, false).op.is_slicing());
    // Tumbling windows: one slice per window, no copies needed.
    let tumbling = TumblingEventTimeWindows::of(ms(10));
    assert!(harness(tumbling, EventTimeTrigger, sum_function(), 0, false).op.is_slicing());
    let average = AggregatingWindowFunction::new(Average, PassThrough);
    assert!(harness(tumbling, EventTimeTrigger, average, 0, false).op.is_slicing());
    assert!(!harness(tumbling, EventTimeTrigger, sum_function(), 5, false).op.is_slicing());
    assert!(!harness(sliding(10, 5), EventTimeTrigger, describe_function(), 0, false).op.is_slicing());
    let with_process = ReducingWindowFunction::new(
        sum as fn(In, In) -> In,
        CountFirings { cleared: Arc::new(Mutex::new(Vec::new())) },
    );
    assert!(!harness(sliding(10, 5), EventTimeTrigger, with_process, 0, false).op.is_slicing());
    // A reduce not declared commutative reduces in arrival order: panes for sliding
    // windows, slices for tumbling ones (one slice is one window).
    let in_arrival_order = || ReducingWindowFunction::new(sum as fn(In, In) -> In, PassThrough);
    assert!(!harness(sliding(10, 5), EventTimeTrigger, in_arrival_order(), 0, false).op.is_slicing());
    assert!(harness(tumbling, EventTimeTrigger, in_arrival_order(), 0, false).op.is_slicing());
    let sliced = harness(sliding(10, 5), EventTimeTrigger, sum_function(), 0, false);
    assert!(!sliced.op.without_slicing().is_slicing());
}

#[test]
fn an_element_goes_into_one_slice_and_windows_combine_their_slices() {
    let mut h = harness(sliding(30, 10), EventTimeTrigger, sum_function(), 0, false);
    h.element("a", 1, 3); // slice [0, 10): windows [-20, 10), [-10, 20), [0, 30)
    h.element("a", 2, 5);
    h.element("a", 10, 14); // slice [10, 20)
    h.element("b", 100, 27); // slice [20, 30)
    assert_eq!(h.op.num_slices(), 3);
    assert_eq!(h.num_timers(), 2); // one per key
    h.watermark(19); // fires [-20, 10) at 9 and [-10, 20) at 19 of a
    assert_eq!(h.take(), vec![recs(&[(kv("a", 3), 9), (kv("a", 13), 19)]), Seen::Watermark(19)]);
    // ts 8: its windows up to [-10, 20) fired, [0, 30) is open: taken, not dropped.
    h.element("a", 1000, 8);
    // ts 2 into [0, 10) too; ts -5: every window of [-10, 0) fired: dropped.
    h.element("a", 4, 2);
    h.element("a", 7, -5);
    assert_eq!(h.dropped(), 1);
    h.watermark(29);
    assert_eq!(
        h.take(),
        vec![recs(&[(kv("a", 1017), 29), (kv("b", 100), 29)]), Seen::Watermark(29)],
        "[0, 30) of a is 1 + 2 + 10 + 1000 + 4; a's first slice in the window is older than b's"
    );
    assert_eq!(h.op.num_slices(), 2, "the slice [0, 10) of a is gone after its last window");
    h.watermark(i64::MAX);
    assert_eq!(
        h.take(),
        vec![recs(&[(kv("a", 10), 39), (kv("b", 100), 39), (kv("b", 100), 49)]), Seen::Watermark(i64::MAX)]
    );
    assert_eq!(h.op.num_keys_with_windows(), 0);
    assert_eq!(h.num_timers(), 0);
}

#[test]
fn late_elements_of_a_slicing_operator_go_to_the_side_output() {
    let mut h = harness(sliding(20, 10), EventTimeTrigger, sum_function(), 0, true);
    h.watermark(25);
    h.element("a", 1, 5); // windows [-10, 10) and [0, 20): both fired
    h.element("a", 2, 15); // [10, 30) is open
    assert_eq!(h.late.take(), vec![Seen::Watermark(25), recs(&[(kv("a", 1), 5)])]);
    assert_eq!(h.dropped(), 0);
    h.watermark(i64::MAX);
    assert_eq!(h.take(), vec![Seen::Watermark(25), recs(&[(kv("a", 2), 29)]), Seen::Watermark(i64::MAX)]);
}

/// Records between watermarks, sorted (the order of results due at the same
/// watermark is that of timer registration, which slicing changes across keys).
fn by_watermark<O: Clone + Ord>(seen: Vec<Seen<O>>) -> Vec<(Vec<(O, Timestamp)>, Option<Timestamp>)> {
    let mut segments = Vec::new();
    let mut records = Vec::new();
    for s in seen {
        match s {
            Seen::Records(r) => records.extend(r),
            Seen::Watermark(w) => {
                records.sort();
                segments.push((std::mem::take(&mut records), Some(w)));
            }
            Seen::Status(_) => {}
        }
    }
    records.sort();
    segments.push((records, None));
    segments
}

/// An input step: an element (key, value, timestamp) or a watermark.
#[derive(Clone, Debug)]
enum Step {
    Element(usize, i64, Timestamp),
    Watermark(Timestamp),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0usize..5, -50i64..50, -20i64..120).prop_map(|(k, v, t)| Step::Element(k, v, t)),
        1 => (-20i64..130).prop_map(Step::Watermark),
    ]
}

/// Runs `steps` (watermarks only ever move forward, as an operator sees them),
/// then the end of input; returns the output by watermark, the late side
/// output and the dropped count.
fn run_steps<O, F>(
    mut h: Harness<O, SlidingEventTimeWindows, EventTimeTrigger, F>,
    steps: &[Step],
) -> (Vec<(Vec<(O, Timestamp)>, Option<Timestamp>)>, Vec<Seen<In>>, i64)
where
    O: Send + Clone + Ord + 'static,
    F: InternalWindowFunction<String, TimeWindow, In, O>,
{
    let keys = ["a", "b", "c", "d", "e"];
    let mut watermark = i64::MIN;
    for s in steps {
        match *s {
            Step::Element(k, v, t) => h.element(keys[k], v, t),
            Step::Watermark(w) if w > watermark => {
                watermark = w;
                h.watermark(w);
            }
            Step::Watermark(_) => {}
        }
    }
    h.watermark(i64::MAX);
    (by_watermark(h.take()), h.late.take(), h.dropped())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Sliced == one pane per window: same results at the same watermarks, same
    /// late elements, for reduce (max) and a copyable aggregate, sizes 1 (tumbling)
    /// to 4 slides.
    #[test]
    fn a_slicing_operator_gives_the_results_of_panes(
        steps in proptest::collection::vec(step(), 1..80),
        slides in 1u64..5,
        slide in 1u64..12,
        late_tag in proptest::bool::ANY,
    ) {
        let size = slides * slide;
        let make = || harness(sliding(size, slide), EventTimeTrigger, max_function(), 0, late_tag);
        proptest::prop_assert!(make().op.is_slicing());
        let sliced = run_steps(make(), &steps);
        let panes = run_steps(make().without_slicing(), &steps);
        proptest::prop_assert_eq!(sliced, panes);

        let make = || {
            let f = AggregatingWindowFunction::new(CopyableSum, PassThrough);
            harness(sliding(size, slide), EventTimeTrigger, f, 0, late_tag)
        };
        let sliced = run_steps(make(), &steps);
        let panes = run_steps(make().without_slicing(), &steps);
        proptest::prop_assert_eq!(sliced, panes);
    }

    /// A slicing operator's snapshot, restored at parallelism 1–3, gives the
    /// uninterrupted results of one pane per window.
    #[test]
    fn sliced_windows_restore_to_the_results_of_panes(
        elements in proptest::collection::vec((0usize..4, 1i64..100, 0i64..60), 1..40),
        cut in 0usize..40,
        watermark_at_cut in 0i64..40,
        parallelism in 1usize..4,
    ) {
        let keys = ["a", "b", "c", "d"];
        let all: Vec<(&str, i64, Timestamp)> = elements.iter().map(|&(k, v, t)| (keys[k], v, t)).collect();
        let cut = cut.min(all.len());
        let (before, after) = all.split_at(cut);
        let make = || harness(sliding(30, 10), EventTimeTrigger, sum_function(), 0, false);
        let panes = || make().without_slicing();
        let expected = run_uninterrupted(panes, before, after, watermark_at_cut);
        proptest::prop_assert_eq!(run_with_restore(make, before, after, watermark_at_cut, parallelism), expected);
    }
}

/// A snapshot with one pane per window (taken before slicing existed)
/// restores into a slicing job, which then keeps panes; a sliced snapshot
/// restored into a job whose windows do not slice fails, naming why.
#[test]
fn snapshots_move_between_sliced_and_paned_operators_or_fail_clearly() {
    let before = [("a", 1, 1), ("b", 2, 13), ("a", 3, 22)];
    let panes = || harness(sliding(30, 10), EventTimeTrigger, sum_function(), 0, false).without_slicing();
    let mut old = panes();
    for &(k, v, t) in &before {
        old.element(k, v, t);
    }
    old.watermark(15);
    old.take();
    let snapshot = old.op.snapshot_windows().expect("snapshot");
    let mut h = harness(sliding(30, 10), EventTimeTrigger, sum_function(), 0, false);
    h.op.restore_windows(std::slice::from_ref(&snapshot.bytes)).expect("a paned snapshot restores");
    assert!(!h.op.is_slicing(), "restored panes are kept as panes");
    h.watermark(15);
    h.element("a", 10, 16);
    h.watermark(i64::MAX);
    let mut expected = vec![
        (kv("a", 11), 19),
        (kv("b", 2), 19),
        (kv("a", 14), 29),
        (kv("b", 2), 29),
        (kv("a", 13), 39),
        (kv("b", 2), 39),
        (kv("a", 3), 49),
    ];
    expected.sort();
    assert_eq!(sorted_records(&h.take()), expected);

    let mut sliced = harness(sliding(30, 10), EventTimeTrigger, sum_function(), 0, false);
    for &(k, v, t) in &before {
        sliced.element(k, v, t);
    }
    let snapshot = sliced.op.snapshot_windows().expect("snapshot");
    let mut other = harness(sliding(30, 10), EventTimeTrigger, sum_function(), 1000, false);
    let err = other.op.restore_windows(std::slice::from_ref(&snapshot.bytes)).expect_err("must not restore");
    let message = err.to_string();
    assert!(message.contains("holds sliced windows") && message.contains("restore with the job"), "{message}");
}

/// Two subtasks' snapshots taken at different watermarks restore into one
/// operator: each key's windows that fired before its snapshot do not fire
/// again, although the restored operator's watermark starts over.
#[test]
fn snapshots_taken_at_different_watermarks_restore_without_firing_a_window_twice() {
    let make = || harness(sliding(30, 10), EventTimeTrigger, sum_function(), 0, false);
    let mut first = make();
    first.element("a", 1, 1);
    first.element("a", 2, 12);
    first.watermark(19);
    assert_eq!(sorted_records(&first.take()), vec![(kv("a", 1), 9), (kv("a", 3), 19)]);
    let mut second = make();
    second.element("b", 10, 3);
    second.element("b", 20, 25);
    second.watermark(29);
    assert_eq!(sorted_records(&second.take()), vec![(kv("b", 10), 9), (kv("b", 10), 19), (kv("b", 30), 29)]);
    let snapshots = [first.op.snapshot_windows().expect("snapshot"), second.op.snapshot_windows().expect("snapshot")];

    let mut restored = make();
    restored.op.restore_windows(&snapshots.map(|s| s.bytes)).expect("restore");
    assert!(restored.op.is_slicing());
    restored.watermark(i64::MAX);
    let mut expected = vec![(kv("a", 3), 29), (kv("a", 2), 39), (kv("b", 20), 39), (kv("b", 20), 49)];
    expected.sort();
    assert_eq!(sorted_records(&restored.take()), expected);
}
