use crate::functions::{Collector, Context, KeyedContext, KeyedProcessFunction, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::output::{OneInputOperator, Output};
use crate::side_output::SideOutputs;
use crate::timer::{InternalTimerService, TimeDomain, Timer};
use brook_types::{Batch, NO_TIMESTAMP, Timestamp, Watermark};
use std::marker::PhantomData;

/// `KeyedStream::process`: a [`KeyedProcessFunction`] that sees the current key and
/// has timers.
///
/// On a watermark, due event-time timers fire (in order) before the watermark is
/// forwarded, so their results precede it downstream. Processing-time timers fire
/// when the task's clock reaches them. Pending processing-time timers are dropped
/// at end of input (event-time ones all fire, at `Watermark::MAX`).
pub struct KeyedProcessOperator<I, O, S: KeySelector<I>, P> {
    key_selector: S,
    function: P,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    timers: InternalTimerService<S::Key, ()>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, S, P> KeyedProcessOperator<I, O, S, P>
where
    S: KeySelector<I>,
    P: KeyedProcessFunction<S::Key, I, O>,
{
    pub fn new(key_selector: S, mut function: P, runtime: RuntimeContext, side_outputs: SideOutputs) -> Self {
        function.open(&runtime);
        let timers = InternalTimerService::new(runtime.processing_time.clone());
        Self { key_selector, function, runtime, side_outputs, watermark: Watermark::MIN, timers, _types: PhantomData }
    }

    fn fire(&mut self, timer: Timer<S::Key, ()>, domain: TimeDomain, collector: &mut Collector<O>) {
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

impl<I, O, S, P> OneInputOperator<I, O> for KeyedProcessOperator<I, O, S, P>
where
    I: Send,
    O: Send,
    S: KeySelector<I>,
    P: KeyedProcessFunction<S::Key, I, O>,
{
    fn process_batch(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for r in batch {
            let key = self.key_selector.key(&r.value);
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
            self.function.process_element(r.value, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
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
