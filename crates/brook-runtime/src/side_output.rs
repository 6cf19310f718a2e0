//! Side outputs: extra typed streams an operator emits through an [`OutputTag`].

use crate::checkpoint::ChainVisitor;
use crate::output::Output;
use brook_types::{StreamRecord, Timestamp, Watermark, WatermarkStatus};
use std::any::Any;
use std::marker::PhantomData;

/// Names a side output of type `T`. Tags are equal when their ids are.
#[derive(Debug)]
pub struct OutputTag<T> {
    id: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for OutputTag<T> {
    fn clone(&self) -> Self {
        Self { id: self.id.clone(), _type: PhantomData }
    }
}

impl<T> OutputTag<T> {
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), _type: PhantomData }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A side output whose type only the emitting code knows.
pub trait ErasedSideOutput: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn flush(&mut self);
    fn emit_watermark(&mut self, watermark: Watermark);
    fn emit_watermark_status(&mut self, status: WatermarkStatus);
    fn end_input(&mut self);
    fn on_processing_time(&mut self, now: Timestamp);
    /// Passes a checkpoint visitor on to the operators behind this side output.
    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor);
}

/// Buffers side records of one tag and hands them on per batch.
pub struct SideOutput<T> {
    buffer: Vec<StreamRecord<T>>,
    output: Box<dyn Output<T>>,
}

impl<T> SideOutput<T> {
    pub fn new(output: Box<dyn Output<T>>) -> Self {
        Self { buffer: Vec::new(), output }
    }
}

impl<T: Send + 'static> ErasedSideOutput for SideOutput<T> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn flush(&mut self) {
        if !self.buffer.is_empty() {
            self.output.collect(std::mem::take(&mut self.buffer));
        }
    }
    fn emit_watermark(&mut self, watermark: Watermark) {
        self.flush();
        self.output.emit_watermark(watermark);
    }
    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.output.emit_watermark_status(status);
    }
    fn end_input(&mut self) {
        self.flush();
        self.output.end_input();
    }
    fn on_processing_time(&mut self, now: Timestamp) {
        self.output.on_processing_time(now);
    }
    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        self.output.visit_operators(visitor);
    }
}

/// All side outputs of one operator, by tag id.
#[derive(Default)]
pub struct SideOutputs {
    outputs: Vec<(String, Box<dyn ErasedSideOutput>)>,
}

impl SideOutputs {
    pub fn new(outputs: Vec<(String, Box<dyn ErasedSideOutput>)>) -> Self {
        Self { outputs }
    }

    /// Whether no side output is consumed.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    pub fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.outputs.iter_mut().for_each(|(_, o)| o.emit_watermark_status(status));
    }

    /// Emits `value` to the side output `tag`; dropped if nothing consumes the tag.
    pub fn emit<T: 'static>(&mut self, tag: &OutputTag<T>, value: T, timestamp: Timestamp) {
        for (id, out) in &mut self.outputs {
            if id == tag.id() {
                let side = out
                    .as_any_mut()
                    .downcast_mut::<SideOutput<T>>()
                    .unwrap_or_else(|| panic!("output tag '{}' is used with two different types", tag.id()));
                side.buffer.push(StreamRecord { value, timestamp });
                return;
            }
        }
    }

    pub fn flush(&mut self) {
        self.outputs.iter_mut().for_each(|(_, o)| o.flush());
    }

    pub fn emit_watermark(&mut self, watermark: Watermark) {
        self.outputs.iter_mut().for_each(|(_, o)| o.emit_watermark(watermark));
    }

    pub fn end_input(&mut self) {
        self.outputs.iter_mut().for_each(|(_, o)| o.end_input());
    }

    pub fn on_processing_time(&mut self, now: Timestamp) {
        self.outputs.iter_mut().for_each(|(_, o)| o.on_processing_time(now));
    }

    /// Passes a checkpoint visitor on to the operators behind every side output.
    pub fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        self.outputs.iter_mut().for_each(|(_, o)| o.visit_operators(visitor));
    }
}

/// The main output of an operator that emits nothing to the side outputs someone
/// consumes (e.g. `map(..).get_side_output(tag)`): the side streams stay empty but
/// still receive watermarks and end of input, so their consumers finish.
pub struct WithUnusedSideOutputs<T> {
    main: Box<dyn Output<T>>,
    sides: SideOutputs,
}

impl<T> WithUnusedSideOutputs<T> {
    /// Wraps `main` if there are side outputs, else returns it as it is.
    pub fn wrap(main: Box<dyn Output<T>>, sides: SideOutputs) -> Box<dyn Output<T>>
    where
        T: Send + 'static,
    {
        if sides.is_empty() { main } else { Box::new(Self { main, sides }) }
    }
}

impl<T: Send> Output<T> for WithUnusedSideOutputs<T> {
    fn collect(&mut self, batch: brook_types::Batch<T>) {
        self.main.collect(batch);
    }
    fn emit_watermark(&mut self, watermark: Watermark) {
        self.sides.emit_watermark(watermark);
        self.main.emit_watermark(watermark);
    }
    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.sides.emit_watermark_status(status);
        self.main.emit_watermark_status(status);
    }
    fn end_input(&mut self) {
        self.sides.end_input();
        self.main.end_input();
    }
    fn on_processing_time(&mut self, now: Timestamp) {
        self.sides.on_processing_time(now);
        self.main.on_processing_time(now);
    }
    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        self.sides.visit_operators(visitor);
        self.main.visit_operators(visitor);
    }
}
