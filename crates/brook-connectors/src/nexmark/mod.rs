//! The Nexmark benchmark (`/work/shared/nexmark/SPEC.md`): its events (§1), a
//! deterministic parallel generator following Flink's reference (§2), and the
//! source a job reads them from.
//!
//! ```text
//! NexmarkConfig ──▶ NexmarkSource ──enumerator──▶ NexmarkSplit × P (one per sub-generator)
//!                                    reader ──▶ SubGenerator::event(k) ──▶ Event
//! nexmark::source(env, config)     = the source + timestamps + 4 s watermarks
//! ```
//!
//! Design and the Flink quirks: docs/design/nexmark.md.

pub mod api;
pub mod config;
pub mod error;
pub mod export;
pub mod exported;
pub mod generator;
pub mod model;
mod rng;
mod separators;
pub mod source;
mod strings;

pub use api::{WATERMARK_DELAY, read_exported, read_exported_kinds, source, watermark_strategy};
pub use config::NexmarkConfig;
pub use error::NexmarkError;
pub use export::{ExportFormat, ExportSummary, export, merged_events};
pub use exported::{ExportSplit, ExportedSource};
pub use generator::{EventKind, SubGenerator};
pub use model::{Auction, Bid, Event, Person};
pub use source::{NexmarkReader, NexmarkSource, NexmarkSplit};
