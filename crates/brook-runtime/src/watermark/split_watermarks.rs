//! Per-split watermarks inside a source task (Flink's `WatermarkOutputMultiplexer`).
//!
//! A source reading several splits (file ranges, Kafka partitions) runs one
//! watermark generator per split; the task's watermark is the minimum over the
//! splits that are active (not idle, not finished), so one slow split holds back
//! event time and an idle or finished one does not. A split that has emitted no
//! watermark yet holds event time at its start. When every split is idle, the
//! source is idle.

use super::{RelativeClock, WatermarkGenerator, WatermarkOutput, WatermarkSignal, WatermarkStrategy};
use brook_types::{StreamRecord, Watermark};
use std::collections::BTreeMap;

struct SplitState<T> {
    generator: Box<dyn WatermarkGenerator<T>>,
    output: WatermarkOutput,
}

/// The watermark generators of one source task's splits.
pub struct SplitWatermarks<T> {
    strategy: WatermarkStrategy<T>,
    clock: RelativeClock,
    splits: BTreeMap<String, SplitState<T>>,
    combined: WatermarkOutput,
}

impl<T: 'static> SplitWatermarks<T> {
    pub fn new(strategy: WatermarkStrategy<T>, clock: RelativeClock) -> Self {
        Self { strategy, clock, splits: BTreeMap::new(), combined: WatermarkOutput::new() }
    }

    /// A split was assigned: until it emits a watermark it holds event time back.
    pub fn register_split(&mut self, split: &str) {
        if !self.splits.contains_key(split) {
            let generator = self.strategy.create_watermark_generator(self.clock.clone());
            self.splits.insert(split.to_string(), SplitState { generator, output: WatermarkOutput::new() });
        }
    }

    /// Stamps `record` (read from `split`) and shows it to that split's generator.
    pub fn on_record(&mut self, split: &str, record: &mut StreamRecord<T>) {
        if let Some(assign) = self.strategy.timestamp_assigner() {
            record.timestamp = assign(&record.value, record.timestamp);
        }
        self.register_split(split);
        let state = self.splits.get_mut(split).expect("registered above");
        if state.output.is_idle() {
            state.output.mark_active();
        }
        state.generator.on_event(&record.value, record.timestamp, &mut state.output);
        self.combine();
    }

    /// [`on_record`](Self::on_record) for a batch read from one split: the split is
    /// looked up and the splits combined once per batch, not per record (the
    /// combined watermark after the batch is the same).
    pub fn on_batch(&mut self, split: &str, records: &mut [StreamRecord<T>]) {
        if records.is_empty() {
            return;
        }
        self.register_split(split);
        let state = self.splits.get_mut(split).expect("registered above");
        if state.output.is_idle() {
            state.output.mark_active();
        }
        let assign = self.strategy.timestamp_assigner();
        for record in records.iter_mut() {
            if let Some(assign) = assign {
                record.timestamp = assign(&record.value, record.timestamp);
            }
            state.generator.on_event(&record.value, record.timestamp, &mut state.output);
        }
        self.combine();
    }

    /// The periodic emission of every split's generator.
    pub fn on_periodic_emit(&mut self) {
        for state in self.splits.values_mut() {
            state.generator.on_periodic_emit(&mut state.output);
        }
        self.combine();
    }

    /// `split` is done: it no longer holds back event time.
    pub fn split_finished(&mut self, split: &str) {
        self.splits.remove(split);
        self.combine();
    }

    /// Watermarks and idleness changes to send downstream, in order.
    pub fn take_signals(&mut self) -> Vec<WatermarkSignal> {
        for state in self.splits.values_mut() {
            // Per-split signals only feed the combination.
            state.output.take_signals();
        }
        self.combined.take_signals()
    }

    fn combine(&mut self) {
        if self.splits.is_empty() {
            return;
        }
        if self.splits.values().all(|s| s.output.is_idle()) {
            if !self.combined.is_idle() {
                self.combined.mark_idle();
            }
            return;
        }
        let min = self
            .splits
            .values()
            .filter(|s| !s.output.is_idle())
            .map(|s| s.output.current_watermark())
            .min()
            .expect("some split is active");
        if min > Watermark::MIN {
            // Emitting ends idleness of the combined output.
            self.combined.emit_watermark(min);
        } else if self.combined.is_idle() {
            self.combined.mark_active();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn punctuated() -> WatermarkStrategy<i64> {
        struct EveryEvent;
        impl WatermarkGenerator<i64> for EveryEvent {
            fn on_event(&mut self, _e: &i64, ts: i64, out: &mut WatermarkOutput) {
                out.emit_watermark(Watermark(ts));
            }
        }
        WatermarkStrategy::for_generator(|| EveryEvent).with_timestamp_assigner(|e: &i64, _| *e)
    }

    fn watermarks(signals: Vec<WatermarkSignal>) -> Vec<i64> {
        signals
            .into_iter()
            .filter_map(|s| match s {
                WatermarkSignal::Watermark(w) => Some(w.0),
                WatermarkSignal::Status(_) => None,
            })
            .collect()
    }

    #[test]
    fn the_slowest_active_split_sets_event_time() {
        let mut w = SplitWatermarks::new(punctuated(), Arc::new(|| 0));
        w.register_split("a");
        w.register_split("b");
        let mut seen = Vec::new();
        for (split, ts) in [("a", 1000), ("b", 10), ("a", 2000), ("b", 20), ("a", 3000)] {
            w.on_record(split, &mut StreamRecord::new(ts));
            seen.extend(watermarks(w.take_signals()));
        }
        // Nothing until b has a watermark; then b's, since it is behind.
        assert_eq!(seen, vec![10, 20]);
        w.split_finished("b");
        assert_eq!(watermarks(w.take_signals()), vec![3000], "a finished split no longer holds back");
    }

    #[test]
    fn a_batch_gives_the_watermark_its_records_give_one_by_one() {
        let mut one_by_one = SplitWatermarks::new(punctuated(), Arc::new(|| 0));
        let mut batched = SplitWatermarks::new(punctuated(), Arc::new(|| 0));
        for w in [&mut one_by_one, &mut batched] {
            w.register_split("a");
            w.register_split("b");
        }
        let mut last = Vec::new();
        for (split, batch) in [("a", vec![5, 7, 6]), ("b", vec![3, 4]), ("a", vec![9]), ("b", vec![8, 12])] {
            let mut records: Vec<StreamRecord<i64>> = batch.into_iter().map(StreamRecord::new).collect();
            for r in records.iter_mut() {
                one_by_one.on_record(split, r);
            }
            batched.on_batch(split, &mut records);
            let expected = watermarks(one_by_one.take_signals()).last().copied();
            let got = watermarks(batched.take_signals()).last().copied();
            assert_eq!(got, expected, "after a batch of {split}");
            last.push(got);
        }
        assert_eq!(last, vec![None, Some(4), None, Some(9)]);
    }
}
