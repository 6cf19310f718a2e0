//! Combines the watermarks and idleness of a task's input channels.
//!
//! Invariants: the emitted watermark never decreases; it is the minimum over the
//! channels that are active (not idle, not ended) and is emitted only when that
//! minimum advances; when every channel is idle the task reports itself idle, and
//! it reports active again when any channel becomes active.

use brook_types::{Watermark, WatermarkStatus};

#[derive(Clone, Copy, Debug)]
struct ChannelStatus {
    watermark: Watermark,
    idle: bool,
    /// Whether this channel's watermark has caught up with the last emitted one
    /// (a channel coming back from idle must not pull event time back).
    aligned: bool,
}

/// What the valve decided for one input element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ValveOutput {
    pub watermark: Option<Watermark>,
    pub status: Option<WatermarkStatus>,
}

/// Per-channel watermark bookkeeping of one task.
pub struct WatermarkValve {
    channels: Vec<ChannelStatus>,
    last_emitted: Watermark,
    idle: bool,
}

impl WatermarkValve {
    pub fn new(num_channels: usize) -> Self {
        Self {
            channels: vec![ChannelStatus { watermark: Watermark::MIN, idle: false, aligned: true }; num_channels],
            last_emitted: Watermark::MIN,
            idle: false,
        }
    }

    pub fn current(&self) -> Watermark {
        self.last_emitted
    }

    /// A watermark arrived on `channel`.
    pub fn input_watermark(&mut self, channel: usize, watermark: Watermark) -> ValveOutput {
        let ch = &mut self.channels[channel];
        if ch.idle || watermark <= ch.watermark {
            return ValveOutput::default();
        }
        ch.watermark = watermark;
        if !ch.aligned && watermark >= self.last_emitted {
            ch.aligned = true;
        }
        ValveOutput { watermark: self.advance(), status: None }
    }

    /// A watermark status arrived on `channel`.
    pub fn input_status(&mut self, channel: usize, status: WatermarkStatus) -> ValveOutput {
        let mut out = ValveOutput::default();
        match status {
            WatermarkStatus::Idle if !self.channels[channel].idle => {
                self.channels[channel].idle = true;
                self.channels[channel].aligned = false;
                if self.channels.iter().all(|c| c.idle) {
                    self.idle = true;
                    out.status = Some(WatermarkStatus::Idle);
                } else {
                    out.watermark = self.advance();
                }
            }
            WatermarkStatus::Active if self.channels[channel].idle => {
                let ch = &mut self.channels[channel];
                ch.idle = false;
                ch.aligned = ch.watermark >= self.last_emitted;
                if self.idle {
                    self.idle = false;
                    out.status = Some(WatermarkStatus::Active);
                }
            }
            _ => {}
        }
        out
    }

    fn advance(&mut self) -> Option<Watermark> {
        let min = self.channels.iter().filter(|c| !c.idle && c.aligned).map(|c| c.watermark).min()?;
        if min > self.last_emitted {
            self.last_emitted = min;
            Some(min)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emits_the_minimum_when_it_advances() {
        let mut v = WatermarkValve::new(2);
        assert_eq!(v.input_watermark(0, Watermark(5)).watermark, None);
        assert_eq!(v.input_watermark(1, Watermark(3)).watermark, Some(Watermark(3)));
        assert_eq!(v.input_watermark(1, Watermark(7)).watermark, Some(Watermark(5)));
        assert_eq!(v.input_watermark(0, Watermark(6)).watermark, Some(Watermark(6)));
    }

    #[test]
    fn idle_channels_do_not_hold_back_event_time() {
        let mut v = WatermarkValve::new(2);
        v.input_watermark(0, Watermark(10));
        let out = v.input_status(1, WatermarkStatus::Idle);
        assert_eq!(out.watermark, Some(Watermark(10)));
        let out = v.input_status(0, WatermarkStatus::Idle);
        assert_eq!(out.status, Some(WatermarkStatus::Idle));
        let out = v.input_status(1, WatermarkStatus::Active);
        assert_eq!(out.status, Some(WatermarkStatus::Active));
        // channel 1 is behind (MIN) and must not pull event time back
        assert_eq!(v.input_watermark(1, Watermark(4)).watermark, None);
        assert_eq!(v.input_watermark(1, Watermark(12)).watermark, Some(Watermark(12)));
    }

    proptest! {
        #[test]
        fn output_is_monotonic(events in proptest::collection::vec((0usize..3, -50i64..50, any::<bool>(), any::<bool>()), 0..200)) {
            let mut v = WatermarkValve::new(3);
            let mut last = Watermark::MIN;
            for (ch, ts, is_status, idle) in events {
                let out = if is_status {
                    v.input_status(ch, if idle { WatermarkStatus::Idle } else { WatermarkStatus::Active })
                } else {
                    v.input_watermark(ch, Watermark(ts))
                };
                if let Some(w) = out.watermark {
                    prop_assert!(w > last);
                    last = w;
                }
            }
        }
    }
}
