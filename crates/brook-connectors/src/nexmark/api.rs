//! The entry points a job calls: Nexmark events as a `DataStream<Event>` with event
//! timestamps (`date_time`) and the SPEC's watermark (4 s bounded out-of-orderness,
//! generated per split).

use super::config::NexmarkConfig;
use super::error::NexmarkError;
use super::exported::ExportedSource;
use super::generator::EventKind;
use super::model::Event;
use super::source::NexmarkSource;
use brook_api::{DataStream, StreamExecutionEnvironment, WatermarkGenerator, WatermarkOutput, WatermarkStrategy};
use brook_types::Watermark;
use std::path::Path;
use std::time::Duration;

/// The bounded out-of-orderness of the Nexmark DDL (`dateTime - INTERVAL '4' SECOND`).
pub const WATERMARK_DELAY: Duration = Duration::from_secs(4);

/// The watermark strategy of every Nexmark source: timestamps are already on the
/// records (`date_time`); the watermark is the largest timestamp minus 4 s exactly,
/// as Flink SQL's `dateTime - INTERVAL '4' SECOND` (the DataStream
/// `for_bounded_out_of_orderness` would subtract another millisecond), emitted
/// every `pipeline.auto-watermark-interval`.
pub fn watermark_strategy() -> WatermarkStrategy<Event> {
    WatermarkStrategy::for_generator(|| SqlBoundedDelay { max_seen: i64::MIN, emitted: i64::MIN })
}

/// `max(timestamp) − 4 s`, never decreasing.
#[derive(Clone, Copy, Debug)]
struct SqlBoundedDelay {
    max_seen: i64,
    emitted: i64,
}

impl WatermarkGenerator<Event> for SqlBoundedDelay {
    fn on_event(&mut self, _event: &Event, timestamp: i64, _output: &mut WatermarkOutput) {
        self.max_seen = self.max_seen.max(timestamp);
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        if self.max_seen == i64::MIN {
            return;
        }
        let wm = self.max_seen - WATERMARK_DELAY.as_millis() as i64;
        if wm > self.emitted {
            self.emitted = wm;
            output.emit_watermark(Watermark(wm));
        }
    }
}

/// Generated Nexmark events (connector `nexmark`), one split per sub-generator.
///
/// ```no_run
/// use brook_api::StreamExecutionEnvironment;
/// use brook_connectors::nexmark::{self, Event, NexmarkConfig};
///
/// let env = StreamExecutionEnvironment::get_execution_environment();
/// let config = NexmarkConfig { events_num: 1_000_000, ..NexmarkConfig::default() };
/// let bids = nexmark::source(&env, &config).filter(|e| matches!(e, Event::Bid(_)));
/// ```
pub fn source(env: &StreamExecutionEnvironment, config: &NexmarkConfig) -> DataStream<Event> {
    env.from_source_with_watermarks(NexmarkSource::new(config.clone()), watermark_strategy(), "Nexmark Source")
}

/// Events exported by `brook nexmark gen` (`person`, `auction`, `bid` files in
/// `dir`, CSV or JSON), with the same timestamps and watermarks as [`source`].
/// Fails at once if `dir` holds no export.
pub fn read_exported(
    env: &StreamExecutionEnvironment,
    dir: impl AsRef<Path>,
) -> Result<DataStream<Event>, NexmarkError> {
    let source = ExportedSource::new(dir.as_ref())?;
    Ok(env.from_source_with_watermarks(source, watermark_strategy(), "Nexmark Export Source"))
}

/// As [`read_exported`], reading only the files of `kinds` (e.g. `bid.csv` alone for
/// a query over bids, as Flink's plan scans only the tables a query names).
pub fn read_exported_kinds(
    env: &StreamExecutionEnvironment,
    dir: impl AsRef<Path>,
    kinds: &[EventKind],
) -> Result<DataStream<Event>, NexmarkError> {
    let source = ExportedSource::new(dir.as_ref())?.reading(kinds);
    Ok(env.from_source_with_watermarks(source, watermark_strategy(), "Nexmark Export Source"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_is_the_largest_time_minus_exactly_four_seconds() {
        let mut generator = SqlBoundedDelay { max_seen: i64::MIN, emitted: i64::MIN };
        let mut out = WatermarkOutput::new();
        let event = Event::Bid(crate::nexmark::Bid {
            auction: 1,
            bidder: 1,
            price: 1,
            channel: String::new(),
            url: String::new(),
            date_time: 0,
            extra: String::new(),
        });
        generator.on_periodic_emit(&mut out);
        assert_eq!(out.current_watermark(), Watermark::MIN, "nothing seen, nothing emitted");
        generator.on_event(&event, 10_000, &mut out);
        generator.on_event(&event, 9_000, &mut out);
        generator.on_periodic_emit(&mut out);
        assert_eq!(out.current_watermark(), Watermark(6_000));
    }
}
