use super::WatermarkOutput;
use brook_types::Timestamp;

/// Generates watermarks from the events it sees (Flink's `WatermarkGenerator`).
///
/// One instance runs per subtask, on the task's thread. A *periodic* generator
/// records what it needs in `on_event` and emits in `on_periodic_emit`, which is
/// called every `pipeline.auto-watermark-interval`; a *punctuated* generator emits
/// from `on_event`. Emitting a watermark that is not above the last one emitted is
/// allowed and has no effect.
pub trait WatermarkGenerator<T>: Send {
    /// Called for every record, after it was given `timestamp` and emitted.
    fn on_event(&mut self, event: &T, timestamp: Timestamp, output: &mut WatermarkOutput);

    /// Called periodically; punctuated generators need not implement it.
    fn on_periodic_emit(&mut self, _output: &mut WatermarkOutput) {}
}

/// Emits no watermarks: event time advances only at end of input.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWatermarksGenerator;

impl<T> WatermarkGenerator<T> for NoWatermarksGenerator {
    fn on_event(&mut self, _event: &T, _timestamp: Timestamp, _output: &mut WatermarkOutput) {}
}

impl<T, G: WatermarkGenerator<T> + ?Sized> WatermarkGenerator<T> for Box<G> {
    fn on_event(&mut self, event: &T, timestamp: Timestamp, output: &mut WatermarkOutput) {
        (**self).on_event(event, timestamp, output);
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        (**self).on_periodic_emit(output);
    }
}
