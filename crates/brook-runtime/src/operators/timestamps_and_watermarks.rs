use crate::functions::{RuntimeContext, RuntimeMode};
use crate::output::{OneInputOperator, Output};
use crate::processing_time::ProcessingTimeService;
use crate::watermark::{
    NoWatermarksGenerator, TimestampAssigner, WatermarkGenerator, WatermarkOutput, WatermarkStrategy,
};
use brook_types::{Batch, StreamRecord, Timestamp, Watermark};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// `assign_timestamps_and_watermarks`: stamps records and generates watermarks
/// with a [`WatermarkStrategy`] (Flink's `TimestampsAndWatermarksOperator`).
///
/// - Each record gets `assigner(record, previous timestamp)` (or keeps its own),
///   is emitted, and is then shown to the generator. A watermark the generator
///   emits from `on_event` follows right after that record: the batch is split
///   there, so records before it are emitted before it.
/// - Every `interval` of processing time the generator's `on_periodic_emit` runs
///   (and, with idleness, the idleness check); interval zero disables this.
/// - Watermarks from upstream are dropped, except `Watermark::MAX` (end of
///   input), which is forwarded so bounded jobs complete. (Upstream watermark
///   statuses never reach the operator: the chain forwards them.)
/// - Emitted watermarks strictly increase; an idle output becomes active again
///   before the next record is emitted.
/// - In BATCH mode only timestamps are assigned: event time jumps to MAX at the
///   end, as in Flink.
pub struct TimestampsAndWatermarksOperator<T> {
    assigner: Option<TimestampAssigner<T>>,
    generator: Box<dyn WatermarkGenerator<T>>,
    output: WatermarkOutput,
    processing_time: ProcessingTimeService,
    /// Periodic emission interval in ms; `None`: no periodic emission.
    interval: Option<Timestamp>,
    next_periodic_emit: Timestamp,
    /// The processing time idleness is measured in: set before each periodic emit.
    clock: Arc<AtomicI64>,
}

impl<T: 'static> TimestampsAndWatermarksOperator<T> {
    /// An operator that asks for a periodic watermark every `interval` (zero:
    /// never) on `processing_time`; `emit_progressive_watermarks` false emits only
    /// end of input's MAX (BATCH mode).
    pub fn new(
        strategy: &WatermarkStrategy<T>,
        processing_time: ProcessingTimeService,
        interval: Duration,
        emit_progressive_watermarks: bool,
    ) -> Self {
        let clock = Arc::new(AtomicI64::new(processing_time.now()));
        let generator: Box<dyn WatermarkGenerator<T>> = if emit_progressive_watermarks {
            let c = clock.clone();
            strategy.create_watermark_generator(Arc::new(move || c.load(Ordering::Relaxed)))
        } else {
            Box::new(NoWatermarksGenerator)
        };
        // Sub-millisecond intervals round up to the clock's resolution.
        let interval = (emit_progressive_watermarks && !interval.is_zero())
            .then(|| i64::try_from(interval.as_millis()).unwrap_or(i64::MAX).max(1));
        let mut next_periodic_emit = Timestamp::MAX;
        if let Some(ms) = interval {
            next_periodic_emit = processing_time.now().saturating_add(ms);
            processing_time.register(next_periodic_emit);
        }
        Self {
            assigner: strategy.timestamp_assigner().cloned(),
            generator,
            output: WatermarkOutput::new(),
            processing_time,
            interval,
            next_periodic_emit,
            clock,
        }
    }

    /// The operator of one subtask: the task's clock, the job's
    /// `pipeline.auto-watermark-interval`, progressive watermarks unless BATCH.
    pub fn from_context(strategy: &WatermarkStrategy<T>, ctx: &RuntimeContext) -> Self {
        Self::new(
            strategy,
            ctx.processing_time.clone(),
            ctx.auto_watermark_interval,
            ctx.runtime_mode != RuntimeMode::Batch,
        )
    }

    /// Stamps `record` and shows it to the generator.
    #[inline]
    fn on_record(&mut self, record: &mut StreamRecord<T>) {
        if let Some(assign) = &self.assigner {
            record.timestamp = assign(&record.value, record.timestamp);
        }
        self.generator.on_event(&record.value, record.timestamp, &mut self.output);
    }

    /// A record is activity: an idle output turns active before it.
    #[inline]
    fn activate(&mut self) {
        if self.output.is_idle() {
            self.output.mark_active();
        }
    }

    /// Emits `records` (if any), then the queued watermark signals.
    fn emit_then_signals(&mut self, records: Batch<T>, out: &mut dyn Output<T>) {
        if !records.is_empty() {
            out.collect(records);
        }
        self.output.drain_into(out);
    }
}

impl<T: Send + 'static> OneInputOperator<T, T> for TimestampsAndWatermarksOperator<T> {
    fn process_batch(&mut self, mut batch: Batch<T>, out: &mut dyn Output<T>) {
        // Fast path, stamping in place: no signal comes up within the batch (the
        // usual case with periodic generators), so the batch is passed on whole.
        let len = batch.len();
        let mut split = len;
        for (i, record) in batch.iter_mut().enumerate() {
            self.activate();
            if self.output.has_pending() {
                split = i;
                break;
            }
            self.on_record(record);
            if self.output.has_pending() {
                split = i + 1;
                break;
            }
        }
        if !self.output.has_pending() {
            if len > 0 {
                out.collect(batch);
            }
            return;
        }
        // A signal follows record `split - 1`: emit up to there, then go on record
        // by record, cutting the batch wherever another signal comes up.
        let rest = batch.split_off(split);
        self.emit_then_signals(batch, out);
        let mut buffer = Vec::with_capacity(rest.len());
        for mut record in rest {
            self.activate();
            if self.output.has_pending() {
                self.emit_then_signals(std::mem::take(&mut buffer), out);
            }
            self.on_record(&mut record);
            buffer.push(record);
            if self.output.has_pending() {
                self.emit_then_signals(std::mem::take(&mut buffer), out);
            }
        }
        if !buffer.is_empty() {
            out.collect(buffer);
        }
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<T>) {
        // Upstream event time is replaced by this strategy's, but end of input
        // must still reach downstream.
        if watermark == Watermark::MAX {
            self.output.emit_watermark(Watermark::MAX);
            self.output.drain_into(out);
        }
    }

    /// Upstream idleness is replaced by this strategy's own, as upstream watermarks are.
    fn process_watermark_status(&mut self, _status: brook_types::WatermarkStatus, _out: &mut dyn Output<T>) {}

    fn on_processing_time(&mut self, now: Timestamp, out: &mut dyn Output<T>) {
        let Some(interval) = self.interval else { return };
        // The task calls every operator of the chain when any deadline is due.
        if now < self.next_periodic_emit {
            return;
        }
        self.clock.store(now, Ordering::Relaxed);
        self.generator.on_periodic_emit(&mut self.output);
        self.output.drain_into(out);
        self.next_periodic_emit = now.saturating_add(interval);
        self.processing_time.register(self.next_periodic_emit);
    }

    fn finish(&mut self, out: &mut dyn Output<T>) {
        // As Flink: one last periodic emission (after MAX it has no effect).
        self.clock.store(self.processing_time.now(), Ordering::Relaxed);
        self.generator.on_periodic_emit(&mut self.output);
        self.output.drain_into(out);
    }

    /// The generator's progress is not checkpointed (as in Flink): after a restore
    /// it starts again from the first record it sees.
    fn snapshot_state(
        &mut self,
        _ctx: &mut crate::checkpoint::StateSnapshotContext,
    ) -> Result<(), crate::checkpoint::SnapshotError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brook_types::{NO_TIMESTAMP, WatermarkStatus};
    use proptest::prelude::*;

    /// What reached the operator's output, in order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Seen {
        Records(Vec<(i64, Timestamp)>),
        Watermark(i64),
        Status(WatermarkStatus),
        End,
    }

    #[derive(Default)]
    struct Recorder(Vec<Seen>);

    impl Output<i64> for Recorder {
        fn collect(&mut self, batch: Batch<i64>) {
            self.0.push(Seen::Records(batch.into_iter().map(|r| (r.value, r.timestamp)).collect()));
        }
        fn emit_watermark(&mut self, watermark: Watermark) {
            self.0.push(Seen::Watermark(watermark.0));
        }
        fn emit_watermark_status(&mut self, status: WatermarkStatus) {
            self.0.push(Seen::Status(status));
        }
        fn end_input(&mut self) {
            self.0.push(Seen::End);
        }
    }

    impl Recorder {
        fn take(&mut self) -> Vec<Seen> {
            std::mem::take(&mut self.0)
        }
    }

    fn batch(values: &[i64]) -> Batch<i64> {
        values.iter().map(|v| StreamRecord::new(*v)).collect()
    }

    fn recs(pairs: &[(i64, i64)]) -> Seen {
        Seen::Records(pairs.to_vec())
    }

    /// An operator whose timestamps are the values, asking every 10 ms.
    fn operator(strategy: WatermarkStrategy<i64>) -> (TimestampsAndWatermarksOperator<i64>, ProcessingTimeService) {
        let pts = ProcessingTimeService::new();
        let op = TimestampsAndWatermarksOperator::new(
            &strategy.with_timestamp_assigner(|v, _| *v),
            pts.clone(),
            Duration::from_millis(10),
            true,
        );
        (op, pts)
    }

    /// Emits every event's timestamp minus one, right away.
    struct EveryEvent;
    impl WatermarkGenerator<i64> for EveryEvent {
        fn on_event(&mut self, _event: &i64, timestamp: Timestamp, output: &mut WatermarkOutput) {
            output.emit_watermark(Watermark(timestamp - 1));
        }
    }

    #[test]
    fn periodic_watermarks_follow_the_interval_and_the_max_timestamp() {
        let (mut op, pts) = operator(WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(5)));
        let first = pts.next_deadline().expect("the first emission is registered at creation");
        let mut out = Recorder::default();
        op.process_batch(batch(&[10, 30, 20]), &mut out);
        assert_eq!(out.take(), vec![recs(&[(10, 10), (30, 30), (20, 20)])], "one batch, no watermark yet");

        op.on_processing_time(first - 1, &mut out);
        assert_eq!(out.take(), vec![], "not due yet (another operator's deadline)");
        assert!(pts.take_due(first));
        op.on_processing_time(first, &mut out);
        assert_eq!(out.take(), vec![Seen::Watermark(24)]);
        assert_eq!(pts.next_deadline(), Some(first + 10), "re-registered one interval later");

        op.on_processing_time(first + 10, &mut out);
        assert_eq!(out.take(), vec![], "unchanged watermark is not emitted again");
        op.process_batch(batch(&[25, 40]), &mut out);
        op.on_processing_time(first + 25, &mut out);
        assert_eq!(out.take(), vec![recs(&[(25, 25), (40, 40)]), Seen::Watermark(34)]);
    }

    #[test]
    fn records_keep_their_timestamp_without_an_assigner() {
        let pts = ProcessingTimeService::new();
        let mut op = TimestampsAndWatermarksOperator::new(
            &WatermarkStrategy::<i64>::for_monotonous_timestamps(),
            pts,
            Duration::ZERO,
            true,
        );
        let mut out = Recorder::default();
        let input = vec![StreamRecord::with_timestamp(1, 100), StreamRecord::new(2)];
        op.process_batch(input, &mut out);
        op.on_processing_time(i64::MAX, &mut out);
        op.finish(&mut out);
        assert_eq!(out.take(), vec![recs(&[(1, 100), (2, NO_TIMESTAMP)]), Seen::Watermark(99)]);
    }

    #[test]
    fn punctuated_watermarks_split_the_batch_after_their_record() {
        let (mut op, _) = operator(WatermarkStrategy::for_generator(|| EveryEvent));
        let mut out = Recorder::default();
        op.process_batch(batch(&[5, 3, 8, 8, 9]), &mut out);
        assert_eq!(
            out.take(),
            vec![
                recs(&[(5, 5)]),
                Seen::Watermark(4),
                recs(&[(3, 3), (8, 8)]),
                Seen::Watermark(7),
                recs(&[(8, 8), (9, 9)]),
                Seen::Watermark(8),
            ]
        );
        // A watermark on the last record of a batch needs no split.
        op.process_batch(batch(&[1, 2, 10]), &mut out);
        assert_eq!(out.take(), vec![recs(&[(1, 1), (2, 2), (10, 10)]), Seen::Watermark(9)]);
    }

    #[test]
    fn upstream_watermarks_are_dropped_except_end_of_input() {
        let (mut op, _) = operator(WatermarkStrategy::for_generator(|| EveryEvent));
        let mut out = Recorder::default();
        op.process_watermark(Watermark(1_000), &mut out);
        op.process_batch(batch(&[50]), &mut out);
        op.process_watermark(Watermark(10), &mut out);
        op.process_watermark(Watermark::MAX, &mut out);
        op.process_batch(batch(&[60]), &mut out);
        op.finish(&mut out);
        assert_eq!(
            out.take(),
            vec![recs(&[(50, 50)]), Seen::Watermark(49), Seen::Watermark(i64::MAX), recs(&[(60, 60)])]
        );
    }

    #[test]
    fn an_idle_stream_is_marked_idle_and_active_again_at_its_next_record() {
        let strategy = WatermarkStrategy::for_monotonous_timestamps().with_idleness(Duration::from_millis(50));
        let (mut op, _) = operator(strategy);
        let mut out = Recorder::default();
        op.process_batch(batch(&[7]), &mut out);
        op.on_processing_time(i64::MAX / 2, &mut out); // any time: activity since the last check
        op.on_processing_time(i64::MAX / 2 + 10, &mut out); // no activity: countdown starts
        op.on_processing_time(i64::MAX / 2 + 60, &mut out); // exactly 50 ms: not more than the timeout
        assert_eq!(out.take(), vec![recs(&[(7, 7)]), Seen::Watermark(6)]);
        op.on_processing_time(i64::MAX / 2 + 70, &mut out);
        op.on_processing_time(i64::MAX / 2 + 80, &mut out);
        assert_eq!(out.take(), vec![Seen::Status(WatermarkStatus::Idle)]);
        op.process_batch(batch(&[4, 9]), &mut out);
        op.on_processing_time(i64::MAX / 2 + 90, &mut out);
        assert_eq!(
            out.take(),
            vec![Seen::Status(WatermarkStatus::Active), recs(&[(4, 4), (9, 9)]), Seen::Watermark(8)],
            "active before the record; a late record (4) does not lower the watermark"
        );
    }

    #[test]
    fn end_of_input_ends_idleness_before_max() {
        let strategy = WatermarkStrategy::no_watermarks().with_idleness(Duration::from_millis(1));
        let (mut op, _) = operator(strategy);
        let mut out = Recorder::default();
        op.on_processing_time(i64::MAX / 2, &mut out);
        op.on_processing_time(i64::MAX / 2 + 20, &mut out);
        op.process_watermark(Watermark::MAX, &mut out);
        assert_eq!(
            out.take(),
            vec![Seen::Status(WatermarkStatus::Idle), Seen::Status(WatermarkStatus::Active), Seen::Watermark(i64::MAX)]
        );
    }

    #[test]
    fn batch_mode_assigns_timestamps_but_emits_only_end_of_input() {
        let pts = ProcessingTimeService::new();
        let strategy = WatermarkStrategy::for_generator(|| EveryEvent).with_timestamp_assigner(|v: &i64, _| v * 2);
        let mut op = TimestampsAndWatermarksOperator::new(&strategy, pts.clone(), Duration::from_millis(10), false);
        assert_eq!(pts.next_deadline(), None, "no periodic emission");
        let mut out = Recorder::default();
        op.process_batch(batch(&[1, 2]), &mut out);
        op.process_watermark(Watermark::MAX, &mut out);
        assert_eq!(out.take(), vec![recs(&[(1, 2), (2, 4)]), Seen::Watermark(i64::MAX)]);
    }

    #[test]
    fn interval_zero_disables_periodic_emission() {
        let pts = ProcessingTimeService::new();
        let strategy = WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|v: &i64, _| *v);
        let mut op = TimestampsAndWatermarksOperator::new(&strategy, pts.clone(), Duration::ZERO, true);
        assert_eq!(pts.next_deadline(), None);
        let mut out = Recorder::default();
        op.process_batch(batch(&[3]), &mut out);
        op.process_batch(Vec::new(), &mut out);
        op.on_processing_time(i64::MAX, &mut out);
        assert_eq!(out.take(), vec![recs(&[(3, 3)])], "an empty batch is not passed on");
    }

    /// The generators a property test picks from.
    fn strategy(kind: u8, bound: u64, idle: bool) -> WatermarkStrategy<i64> {
        let s = match kind % 4 {
            0 => WatermarkStrategy::for_monotonous_timestamps(),
            1 => WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(bound)),
            2 => WatermarkStrategy::no_watermarks(),
            _ => WatermarkStrategy::for_generator(|| EveryEvent),
        };
        if idle { s.with_idleness(Duration::from_millis(bound + 1)) } else { s }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the timestamps, batches and timing, emitted watermarks strictly
        /// increase, never pass the highest timestamp seen (except MAX), records
        /// keep their order, and statuses alternate.
        #[test]
        fn emitted_watermarks_strictly_increase(
            kind in 0u8..4,
            bound in 0u64..20,
            idle in any::<bool>(),
            steps in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(-1_000i64..1_000, 0..8).prop_map(Ok),
                    (0i64..30).prop_map(Err),
                ],
                0..60,
            ),
            end in any::<bool>(),
        ) {
            let (mut op, _) = operator(strategy(kind, bound, idle));
            let mut out = Recorder::default();
            // Far beyond the wall clock, so the first step's time is past the first deadline.
            let mut now = i64::MAX / 4;
            let mut input = Vec::new();
            for step in steps {
                match step {
                    Ok(values) => {
                        input.extend(values.iter().copied());
                        op.process_batch(batch(&values), &mut out);
                    }
                    Err(advance) => {
                        now += advance;
                        op.on_processing_time(now, &mut out);
                    }
                }
            }
            if end {
                op.process_watermark(Watermark::MAX, &mut out);
            }
            op.finish(&mut out);
            let mut last = i64::MIN;
            let mut max_ts = i64::MIN;
            let mut idle_now = false;
            let mut records = Vec::new();
            for seen in out.take() {
                match seen {
                    Seen::Records(rs) => {
                        prop_assert!(!rs.is_empty());
                        prop_assert!(!idle_now, "records are emitted only while active");
                        for (v, ts) in rs {
                            prop_assert_eq!(v, ts);
                            max_ts = max_ts.max(ts);
                            records.push(v);
                        }
                    }
                    Seen::Watermark(w) => {
                        prop_assert!(w > last, "{} after {}", w, last);
                        prop_assert!(w < max_ts || w == i64::MAX, "{} with max timestamp {}", w, max_ts);
                        prop_assert!(!idle_now, "a watermark is emitted only while active");
                        last = w;
                    }
                    Seen::Status(s) => {
                        prop_assert_eq!(s == WatermarkStatus::Idle, !idle_now, "statuses alternate");
                        idle_now = s == WatermarkStatus::Idle;
                    }
                    Seen::End => prop_assert!(false, "the operator does not end its output"),
                }
            }
            prop_assert_eq!(records, input);
            prop_assert_eq!(last == i64::MAX, end);
        }
    }
}
