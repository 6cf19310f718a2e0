use crate::output::Output;
use brook_types::{Watermark, WatermarkStatus};

/// What a [`WatermarkOutput`] passes on: a watermark or a change of idleness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatermarkSignal {
    Watermark(Watermark),
    Status(WatermarkStatus),
}

/// Where a [`WatermarkGenerator`](super::WatermarkGenerator) emits (Flink's
/// `WatermarkOutput`, with the deduplication of Flink's `WatermarkEmitter`).
///
/// Invariants: the watermarks it passes on strictly increase; a watermark is
/// passed on only while the output is active (emitting one while idle first marks
/// the output active); `Idle` and `Active` alternate, starting with `Idle`.
/// Signals are queued until the operator hands them downstream, right after the
/// record that caused them.
#[derive(Debug)]
pub struct WatermarkOutput {
    current: Watermark,
    idle: bool,
    pending: Vec<WatermarkSignal>,
}

impl Default for WatermarkOutput {
    fn default() -> Self {
        Self::new()
    }
}

impl WatermarkOutput {
    /// An active output that has emitted nothing.
    pub fn new() -> Self {
        Self { current: Watermark::MIN, idle: false, pending: Vec::new() }
    }

    /// Event time advanced to `watermark`; ignored unless it is above every
    /// watermark emitted before. Ends idleness.
    pub fn emit_watermark(&mut self, watermark: Watermark) {
        if watermark <= self.current {
            return;
        }
        self.current = watermark;
        self.mark_active();
        self.pending.push(WatermarkSignal::Watermark(watermark));
    }

    /// Downstream operators stop waiting for watermarks from this output until it
    /// is active again.
    pub fn mark_idle(&mut self) {
        if !self.idle {
            self.idle = true;
            self.pending.push(WatermarkSignal::Status(WatermarkStatus::Idle));
        }
    }

    /// Ends idleness (also done by the next watermark or record).
    pub fn mark_active(&mut self) {
        if self.idle {
            self.idle = false;
            self.pending.push(WatermarkSignal::Status(WatermarkStatus::Active));
        }
    }

    /// The highest watermark emitted so far.
    pub fn current_watermark(&self) -> Watermark {
        self.current
    }

    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// Whether signals wait to be handed on.
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Takes the signals emitted since the last call, in order (for testing
    /// generators).
    pub fn take_signals(&mut self) -> Vec<WatermarkSignal> {
        std::mem::take(&mut self.pending)
    }

    /// Hands the queued signals to `out`, in order.
    pub(crate) fn drain_into<T>(&mut self, out: &mut dyn Output<T>) {
        for signal in self.pending.drain(..) {
            match signal {
                WatermarkSignal::Watermark(w) => out.emit_watermark(w),
                WatermarkSignal::Status(s) => out.emit_watermark_status(s),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_on_only_increasing_watermarks_and_status_changes() {
        let mut out = WatermarkOutput::new();
        out.emit_watermark(Watermark::MIN);
        out.emit_watermark(Watermark(5));
        out.emit_watermark(Watermark(5));
        out.emit_watermark(Watermark(3));
        out.mark_active();
        out.mark_idle();
        out.mark_idle();
        out.emit_watermark(Watermark(4));
        out.emit_watermark(Watermark(6));
        out.mark_idle();
        out.mark_active();
        assert_eq!(
            out.take_signals(),
            vec![
                WatermarkSignal::Watermark(Watermark(5)),
                WatermarkSignal::Status(WatermarkStatus::Idle),
                WatermarkSignal::Status(WatermarkStatus::Active),
                WatermarkSignal::Watermark(Watermark(6)),
                WatermarkSignal::Status(WatermarkStatus::Idle),
                WatermarkSignal::Status(WatermarkStatus::Active),
            ]
        );
        assert_eq!(out.current_watermark(), Watermark(6));
        assert!(!out.has_pending());
    }
}
