use crate::functions::{Collector, Context, KeyedContext, KeyedProcessFunction, RuntimeContext};
use crate::output::{OneInputOperator, Output};
use crate::side_output::SideOutputs;
use brook_types::{Batch, Timestamp, Watermark};
use std::marker::PhantomData;

/// `KeyedStream::process`: a [`KeyedProcessFunction`] that sees the current key.
pub struct KeyedProcessOperator<K, I, O, KF, P> {
    key_selector: KF,
    function: P,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    _types: PhantomData<fn(I) -> (K, O)>,
}

impl<K, I, O, KF, P> KeyedProcessOperator<K, I, O, KF, P>
where
    P: KeyedProcessFunction<K, I, O>,
{
    pub fn new(key_selector: KF, mut function: P, runtime: RuntimeContext, side_outputs: SideOutputs) -> Self {
        function.open(&runtime);
        Self { key_selector, function, runtime, side_outputs, watermark: Watermark::MIN, _types: PhantomData }
    }
}

impl<K, I, O, KF, P> OneInputOperator<I, O> for KeyedProcessOperator<K, I, O, KF, P>
where
    I: Send,
    O: Send,
    K: Send,
    KF: crate::key_selector::KeySelector<I, Key = K>,
    P: KeyedProcessFunction<K, I, O>,
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
            };
            self.function.process_element(r.value, &mut ctx, &mut collector);
        }
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        self.watermark = watermark;
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    fn on_processing_time(&mut self, now: Timestamp, _out: &mut dyn Output<O>) {
        self.side_outputs.on_processing_time(now);
    }

    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.side_outputs.end_input();
    }
}
