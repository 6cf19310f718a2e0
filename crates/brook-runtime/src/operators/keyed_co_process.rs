use super::TwoInputOperator;
use crate::functions::{Collector, Context, KeyedCoProcessFunction, KeyedContext, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::output::Output;
use crate::side_output::SideOutputs;
use crate::timer::{InternalTimerService, TimeDomain, Timer};
use brook_types::{Batch, NO_TIMESTAMP, Timestamp, Watermark};
use std::marker::PhantomData;

/// `ConnectedStreams::key_by(..).process(..)`: a [`KeyedCoProcessFunction`] over two
/// inputs keyed alike, with timers that fire as in `KeyedProcessOperator`.
pub struct KeyedCoProcessOperator<I1, I2, O, S1: KeySelector<I1>, S2, P> {
    key1: S1,
    key2: S2,
    function: P,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    timers: InternalTimerService<S1::Key, ()>,
    _types: PhantomData<fn(I1, I2) -> O>,
}

impl<I1, I2, O, S1, S2, P> KeyedCoProcessOperator<I1, I2, O, S1, S2, P>
where
    S1: KeySelector<I1>,
    S2: KeySelector<I2, Key = S1::Key>,
    P: KeyedCoProcessFunction<S1::Key, I1, I2, O>,
{
    pub fn new(key1: S1, key2: S2, mut function: P, runtime: RuntimeContext, side_outputs: SideOutputs) -> Self {
        function.open(&runtime);
        let timers = InternalTimerService::new(runtime.processing_time.clone());
        Self { key1, key2, function, runtime, side_outputs, watermark: Watermark::MIN, timers, _types: PhantomData }
    }

    fn run<I>(
        &mut self,
        batch: Batch<I>,
        out: &mut dyn Output<O>,
        key_of: impl Fn(&Self, &I) -> S1::Key,
        call: impl Fn(&mut P, I, &mut KeyedContext<'_, S1::Key>, &mut Collector<O>),
    ) {
        let mut collector = Collector::new();
        for r in batch {
            let key = key_of(self, &r.value);
            collector.timestamp = r.timestamp;
            let mut ctx = KeyedContext {
                inner: Context {
                    timestamp: r.timestamp,
                    watermark: self.watermark,
                    side_outputs: &mut self.side_outputs,
                    runtime: &self.runtime,
                },
                key: &key,
                timers: &mut self.timers,
                time_domain: None,
            };
            call(&mut self.function, r.value, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
    }

    fn fire(&mut self, timer: Timer<S1::Key, ()>, domain: TimeDomain, collector: &mut Collector<O>) {
        let timestamp = if domain == TimeDomain::EventTime { timer.timestamp } else { NO_TIMESTAMP };
        collector.timestamp = timestamp;
        let mut ctx = KeyedContext {
            inner: Context {
                timestamp,
                watermark: self.watermark,
                side_outputs: &mut self.side_outputs,
                runtime: &self.runtime,
            },
            key: &timer.key,
            timers: &mut self.timers,
            time_domain: Some(domain),
        };
        self.function.on_timer(timer.timestamp, &mut ctx, collector);
    }

    fn emit(&mut self, collector: Collector<O>, out: &mut dyn Output<O>) {
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }
}

impl<I1, I2, O, S1, S2, P> TwoInputOperator<I1, I2, O> for KeyedCoProcessOperator<I1, I2, O, S1, S2, P>
where
    I1: Send,
    I2: Send,
    O: Send,
    S1: KeySelector<I1>,
    S2: KeySelector<I2, Key = S1::Key>,
    P: KeyedCoProcessFunction<S1::Key, I1, I2, O>,
{
    fn process_batch1(&mut self, batch: Batch<I1>, out: &mut dyn Output<O>) {
        self.run(batch, out, |op, v| op.key1.key(v), |f, v, ctx, c| f.process_element1(v, ctx, c));
    }

    fn process_batch2(&mut self, batch: Batch<I2>, out: &mut dyn Output<O>) {
        self.run(batch, out, |op, v| op.key2.key(v), |f, v, ctx, c| f.process_element2(v, ctx, c));
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        self.watermark = watermark;
        self.timers.advance_watermark(watermark.0);
        let mut collector = Collector::new();
        while let Some(timer) = self.timers.pop_event_time_timer() {
            self.fire(timer, TimeDomain::EventTime, &mut collector);
        }
        self.emit(collector, out);
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    fn on_processing_time(&mut self, now: Timestamp, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        while let Some(timer) = self.timers.pop_processing_time_timer(now) {
            self.fire(timer, TimeDomain::ProcessingTime, &mut collector);
        }
        self.emit(collector, out);
        self.side_outputs.on_processing_time(now);
    }

    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.side_outputs.end_input();
    }
}
