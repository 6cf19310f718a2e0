//! The Nexmark queries q0–q22 (`/work/shared/nexmark/SPEC.md` §3) as DataStream
//! jobs, and the built-in job `brook run nexmark --query qN`.
//!
//! Each query is a function from the event stream — timestamps assigned, the
//! watermark `max event time − 4 s` as in the benchmark's DDL — to its result
//! rows ([`CsvRow`]). [`build_query`] wires a query between a source and a
//! [`QuerySink`]; the benchmark (`brook bench nexmark`) calls it per query.
//! How each query is built, and where it deviates from Flink's plan, is in
//! `docs/design/nexmark-queries.md`.
//!
//! Results of updating queries (q4, q9, q15–q19) are changelogs: each line
//! starts with Flink's row kind (`+I`, `-U`, `+U`, `-D`), in the order Flink's
//! operators emit them for a retracting sink; see [`csv`].
//!
//! ```no_run
//! use brook::api::StreamExecutionEnvironment;
//! use brook::jobs::nexmark::{QuerySink, build_query};
//! use brook_connectors::nexmark::{self, NexmarkConfig};
//!
//! let env = StreamExecutionEnvironment::get_execution_environment();
//! let events = nexmark::source(&env, &NexmarkConfig { events_num: 1_000_000, ..NexmarkConfig::default() });
//! build_query(&env, "q5", events, QuerySink::File("q5.csv".into())).unwrap();
//! env.execute("Nexmark q5").unwrap();
//! ```

pub mod auction_bids;
pub mod bid_row;
pub mod bid_stats;
pub mod csv;
pub mod job;
pub mod q0;
pub mod q1;
pub mod q10;
pub mod q11;
pub mod q12;
pub mod q13;
pub mod q14;
pub mod q15;
pub mod q16;
pub mod q17;
pub mod q18;
pub mod q19;
pub mod q2;
pub mod q20;
pub mod q21;
pub mod q22;
pub mod q3;
pub mod q4;
pub mod q5;
pub mod q6;
pub mod q7;
pub mod q8;
pub mod q9;
pub mod streams;
pub mod time;

pub use csv::{Change, CsvRow, RowKind};
pub use streams::{auctions, bids, persons, with_nexmark_watermarks};

use brook_api::{CollectHandle, DataStream, StreamExecutionEnvironment};
use brook_connectors::nexmark::{self, Event, EventKind, ExportedSource};
use std::path::PathBuf;

/// The queries [`build_query`] knows, in order.
pub const QUERIES: &[&str] = &[
    "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12", "q13", "q14", "q15", "q16", "q17",
    "q18", "q19", "q20", "q21", "q22",
];

/// The event kinds `query` reads: the tables its SQL names (SPEC §3). A source
/// over exported files reads only these files, as Flink's plan scans only the
/// tables a query names; the events of the other kinds would be dropped by the
/// query's first operator anyway. Unknown queries read everything.
pub fn query_inputs(query: &str) -> &'static [EventKind] {
    const BIDS: &[EventKind] = &[EventKind::Bid];
    const AUCTIONS_AND_BIDS: &[EventKind] = &[EventKind::Auction, EventKind::Bid];
    const PERSONS_AND_AUCTIONS: &[EventKind] = &[EventKind::Person, EventKind::Auction];
    const ALL: &[EventKind] = &[EventKind::Person, EventKind::Auction, EventKind::Bid];
    match query {
        "q0" | "q1" | "q2" | "q5" | "q7" | "q10" | "q11" | "q12" | "q13" | "q14" | "q15" | "q16" | "q17" | "q18"
        | "q19" | "q21" | "q22" => BIDS,
        "q4" | "q6" | "q9" | "q20" => AUCTIONS_AND_BIDS,
        "q3" | "q8" => PERSONS_AND_AUCTIONS,
        _ => ALL,
    }
}

/// The text columns `query` looks at (`"bid.extra"`, …), for the queries whose
/// columns are listed here; `None`: all of them. A source over exported files
/// fills only these and leaves the other text columns empty, as Flink's planner
/// pushes the query's projection into its file source. Integer columns are
/// always read.
pub fn query_text_columns(query: &str) -> Option<&'static [&'static str]> {
    match query {
        // (auction, bidder, price, dateTime, extra); q1 converts the price.
        "q0" | "q1" => Some(&["bid.extra"]),
        // (auction, price); q5 counts bids per auction and window.
        "q2" | "q5" => Some(&[]),
        // The bids at a window's maximum price: (auction, price, bidder, dateTime, extra).
        "q7" => Some(&["bid.extra"]),
        // (person id, name, window start), joined with auctions on seller.
        "q8" => Some(&["person.name"]),
        _ => None,
    }
}

/// Exported events in `dir` as `query` reads them: only the files of the tables
/// it names ([`query_inputs`]) and only the text columns it uses
/// ([`query_text_columns`]), with the Nexmark timestamps and watermarks.
pub fn read_exported_for(
    env: &StreamExecutionEnvironment,
    dir: &std::path::Path,
    query: &str,
) -> anyhow::Result<DataStream<Event>> {
    let mut source = ExportedSource::new(dir)?.reading(query_inputs(query));
    if let Some(columns) = query_text_columns(query) {
        source = source.keeping_text(columns)?;
    }
    Ok(env.from_source_with_watermarks(source, nexmark::watermark_strategy(), "Nexmark Export Source"))
}

/// Where a query's rows go.
#[derive(Clone)]
pub enum QuerySink {
    /// Rows are built (every column materialized) and dropped: Flink's
    /// `blackhole` connector, for benchmarks.
    Blackhole,
    /// One CSV file written by a single sink subtask. At parallelism > 1 the
    /// interleaving of rows from different keys depends on timing; compare runs
    /// as multisets (insert-only queries) or materialized changelogs.
    File(PathBuf),
    /// The CSV lines, collected in memory (tests).
    Collect(CollectHandle<String>),
}

/// Adds query `query` (`q0` … `q22`) over `events` to `env`, writing to `sink`.
/// `events` must carry event timestamps and watermarks (see
/// [`with_nexmark_watermarks`]). q10 writes into the directory given as
/// `QuerySink::File` (partitioned by `dt`/`hm`, as the benchmark's filesystem
/// sink), not a single file.
pub fn build_query(
    env: &StreamExecutionEnvironment,
    query: &str,
    events: DataStream<Event>,
    sink: QuerySink,
) -> anyhow::Result<()> {
    // The operators are added to `events`' environment; `env` is part of the
    // signature the benchmark calls and names where the job is built.
    let _ = env;
    match query {
        "q0" => emit(q0::query(events), &sink),
        "q1" => emit(q1::query(events), &sink),
        "q2" => emit(q2::query(events), &sink),
        "q3" => emit(q3::query(events), &sink),
        "q4" => emit(q4::query(events), &sink),
        "q5" => emit(q5::query(events), &sink),
        "q6" => emit(q6::query(events), &sink),
        "q7" => emit(q7::query(events), &sink),
        "q8" => emit(q8::query(events), &sink),
        "q9" => emit(q9::query(events), &sink),
        "q10" => q10::emit(q10::query(events), &sink),
        "q11" => emit(q11::query(events), &sink),
        "q12" => emit(q12::query(events), &sink),
        "q13" => emit(q13::query(events, q13::SideInput::default_table()), &sink),
        "q14" => emit(q14::query(events), &sink),
        "q15" => emit(q15::query(events), &sink),
        "q16" => emit(q16::query(events), &sink),
        "q17" => emit(q17::query(events), &sink),
        "q18" => emit(q18::query(events), &sink),
        "q19" => emit(q19::query(events), &sink),
        "q20" => emit(q20::query(events), &sink),
        "q21" => emit(q21::query(events), &sink),
        "q22" => emit(q22::query(events), &sink),
        other => anyhow::bail!("unknown Nexmark query '{other}'; known queries are: {}", QUERIES.join(", ")),
    }
    Ok(())
}

/// Writes `rows` to `sink`.
pub fn emit<R: CsvRow>(rows: DataStream<R>, sink: &QuerySink) {
    match sink {
        QuerySink::Blackhole => {
            rows.discard().name("Sink: Blackhole");
        }
        QuerySink::File(path) => {
            rows.map(|r: R| r.to_csv())
                .name("Format CSV")
                .write_as_text(path)
                .set_parallelism(1)
                .name("Sink: CSV File");
        }
        QuerySink::Collect(handle) => {
            rows.map(|r: R| r.to_csv())
                .name("Format CSV")
                .sink_to(brook_runtime::sink::CollectSink::new(handle.clone()), "Sink: Collect");
        }
    }
}
