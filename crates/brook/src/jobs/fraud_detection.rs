//! `fraud-detection`: Flink's payment fraud-detection walkthrough, in event time.
//!
//! Input: CSV lines `account_id,timestamp_ms,amount`. Event time is `timestamp_ms`,
//! with watermarks allowing 5 s of out-of-orderness. Output: the input line
//! (`account_id,timestamp_ms,amount`) of every transaction over 500.00 whose
//! previous transaction on the same account — in event-time order — was under 1.00
//! and at most 60 s earlier.
//!
//! Per account, the function holds transactions until the watermark passes them
//! (an event-time timer at each one's timestamp), then examines them in timestamp
//! order (ties in arrival order). As in the walkthrough, a small transaction sets
//! the account's `flag` and registers an event-time timer 60 s later whose time is
//! kept in `timer`; that timer clears both. All of it is keyed state (the pending
//! transactions in map state, the flag and the timer's time in value state), so it
//! is scoped to the account and goes into snapshots.
//!
//! Malformed lines are skipped by default: each is reported on stderr with its
//! line number and the reason, and counted in the `malformed-lines` accumulator
//! that `brook run` prints at the end; `--on-error fail` fails the job at the first
//! one instead. Line numbers count from the start of the input (the files of a
//! directory in name order), which is why the file is read by one subtask; blank
//! lines are ignored.

use anyhow::Context as _;
use brook_api::{
    Collector, KeyedContext, KeyedProcessFunction, MapState, MapStateDescriptor, RuntimeContext,
    StreamExecutionEnvironment, ValueState, ValueStateDescriptor, WatermarkStrategy,
};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Amounts strictly above this many cents are large.
const LARGE_CENTS: i64 = 50_000;
/// Amounts strictly below this many cents are small.
const SMALL_CENTS: i64 = 100;
/// A large transaction counts if the small one was at most this long before.
const PATTERN_MS: i64 = 60_000;

#[derive(Parser, Debug)]
#[command(
    name = "fraud-detection",
    bin_name = "brook run fraud-detection",
    about = "Flags a transaction over 500.00 that follows one under 1.00 on the same account within 60 s"
)]
struct Args {
    /// CSV file (or directory) of `account_id,timestamp_ms,amount` lines.
    #[arg(long)]
    input: PathBuf,
    /// Output file of flagged `account_id,timestamp_ms,amount` lines.
    #[arg(long)]
    output: PathBuf,
    /// Parallelism of the job.
    #[arg(short = 'p', long)]
    parallelism: Option<usize>,
    /// What a malformed line does: skip it (reported and counted) or fail the job.
    #[arg(long = "on-error", value_parser = ["skip", "fail"], default_value = "skip")]
    on_error: String,
}

/// The accumulator counting skipped lines.
pub const MALFORMED_LINES: &str = "malformed-lines";

/// Numbers the lines of the input (one subtask reads it all, in order) and parses them.
#[derive(Clone)]
struct ParseLines {
    fail: bool,
    line_number: u64,
    malformed: brook_runtime::side_output::OutputTag<String>,
}

impl brook_api::ProcessFunction<String, Transaction> for ParseLines {
    fn process_element(&mut self, line: String, ctx: &mut brook_api::Context<'_>, out: &mut Collector<Transaction>) {
        self.line_number += 1;
        if line.trim().is_empty() {
            return;
        }
        match parse(&line) {
            Ok(tx) => out.collect(tx),
            Err(why) if self.fail => brook_runtime::output::fail_operator(format!(
                "line {} of the input: {why}: '{line}' (use --on-error skip to skip such lines)",
                self.line_number
            )),
            Err(why) => {
                ctx.runtime_context().accumulator(MALFORMED_LINES).add(1);
                ctx.output(
                    &self.malformed,
                    format!("fraud-detection: skipped line {}: {why}: '{line}'", self.line_number),
                );
            }
        }
    }
}

/// One parsed transaction; `line` is the input line as it was.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Transaction {
    pub account: String,
    pub timestamp: i64,
    pub cents: i64,
    pub line: String,
}

/// Parses `account_id,timestamp_ms,amount` (amount with at most two decimals).
pub fn parse(line: &str) -> Result<Transaction, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [account, timestamp, amount] = fields.as_slice() else {
        return Err(format!("expected 3 fields 'account_id,timestamp_ms,amount', got {}", fields.len()));
    };
    if account.is_empty() {
        return Err("the account id is empty".into());
    }
    let timestamp: i64 = timestamp.parse().map_err(|_| format!("timestamp '{timestamp}' is not an integer"))?;
    let cents = parse_cents(amount).ok_or_else(|| format!("amount '{amount}' is not a number like 12.34"))?;
    Ok(Transaction { account: account.to_string(), timestamp, cents, line: line.trim().to_string() })
}

fn parse_cents(amount: &str) -> Option<i64> {
    let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let negative = whole.starts_with('-');
    let digits = whole.trim_start_matches(['-', '+']);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let cents = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if negative { -cents } else { cents })
}

/// The detector. Its fields are handles of the keyed state of the current account
/// (Flink's walkthrough keeps `flagState` and `timerState` the same way).
#[derive(Clone, Default)]
pub struct FraudDetector {
    /// Transactions waiting for the watermark, by timestamp, each list in arrival order.
    pending: MapState<i64, Vec<Transaction>>,
    /// Set while the last transaction (in event time) was small.
    flag: ValueState<bool>,
    /// When the timer that clears `flag` fires: 60 s (and 1 ms) after the small transaction.
    timer: ValueState<i64>,
}

impl KeyedProcessFunction<String, Transaction, String> for FraudDetector {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.pending = ctx.get_state(&MapStateDescriptor::new("pending"));
        self.flag = ctx.get_state(&ValueStateDescriptor::new("flag"));
        self.timer = ctx.get_state(&ValueStateDescriptor::new("timer"));
    }

    fn process_element(&mut self, tx: Transaction, ctx: &mut KeyedContext<'_, String>, _out: &mut Collector<String>) {
        ctx.timer_service().register_event_time_timer(tx.timestamp);
        let mut pending = ctx.map_state(&self.pending);
        let mut at_time = pending.remove(&tx.timestamp).unwrap_or_default();
        let timestamp = tx.timestamp;
        at_time.push(tx);
        pending.put(timestamp, at_time);
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, String>, out: &mut Collector<String>) {
        // The pattern's 60 s are over: the flag's timer clears flag and timer. The timer
        // of an earlier small transaction is not deleted (a pending transaction may
        // share its time); when it fires it is before `timer` and clears nothing.
        if ctx.state(&self.timer).value().is_some_and(|&at| timestamp >= at) {
            ctx.state(&self.timer).clear();
            ctx.state(&self.flag).clear();
        }
        // Every transaction at or before this time, in event-time order.
        let mut due: Vec<i64> = ctx.map_state(&self.pending).keys().copied().filter(|&t| t <= timestamp).collect();
        due.sort_unstable();
        for t in due {
            let transactions = ctx.map_state(&self.pending).remove(&t).expect("listed above");
            for tx in transactions {
                let flagged = ctx.state(&self.flag).value().is_some();
                let within = ctx.state(&self.timer).value().is_some_and(|&at| tx.timestamp < at);
                let small = tx.cents < SMALL_CENTS;
                if tx.cents > LARGE_CENTS && flagged && within {
                    out.collect(tx.line);
                }
                if small {
                    let at = tx.timestamp + PATTERN_MS + 1;
                    ctx.state(&self.flag).update(true);
                    ctx.state(&self.timer).update(at);
                    ctx.timer_service().register_event_time_timer(at);
                } else {
                    ctx.state(&self.flag).clear();
                    ctx.state(&self.timer).clear();
                }
            }
        }
    }
}

pub fn build(env: &StreamExecutionEnvironment, args: &[String]) -> anyhow::Result<String> {
    let args = Args::try_parse_from(std::iter::once("fraud-detection".to_string()).chain(args.iter().cloned()))?;
    if let Some(p) = args.parallelism {
        env.set_parallelism(p);
    }
    brook_runtime::source::TextFileSource::files(&args.input).with_context(|| "fraud-detection --input".to_string())?;
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(5))
        .with_timestamp_assigner(|tx: &Transaction, _| tx.timestamp);
    let malformed = brook_runtime::side_output::OutputTag::<String>::new("malformed-lines");
    let parsed = env
        .read_text_file(&args.input)
        .set_parallelism(1)
        .process(ParseLines { fail: args.on_error == "fail", line_number: 0, malformed: malformed.clone() })
        .name("Parse Transactions")
        .set_parallelism(1);
    parsed.get_side_output(&malformed).print_to_err().set_parallelism(1).name("Sink: Malformed Lines");
    parsed
        .assign_timestamps_and_watermarks(strategy)
        .key_by_ref(|tx: &Transaction| &tx.account)
        .process(FraudDetector::default())
        .name("Fraud Detector")
        .write_as_text(&args.output)
        .set_parallelism(1)
        .name("Sink: Alerts");
    Ok("Fraud Detection".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_parsed_to_cents() {
        assert_eq!(parse_cents("500.00"), Some(50_000));
        assert_eq!(parse_cents("500.01"), Some(50_001));
        assert_eq!(parse_cents("0.5"), Some(50));
        assert_eq!(parse_cents("7"), Some(700));
        assert_eq!(parse_cents("-1.25"), Some(-125));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(parse_cents("abc"), None);
        assert_eq!(parse_cents("."), None);
    }

    #[test]
    fn lines_parse_or_say_what_is_wrong() {
        let tx = parse("acc1, 1000, 0.99").unwrap();
        assert_eq!(
            (tx.account.as_str(), tx.timestamp, tx.cents, tx.line.as_str()),
            ("acc1", 1000, 99, "acc1, 1000, 0.99")
        );
        assert_eq!(parse("acc1,1000").unwrap_err(), "expected 3 fields 'account_id,timestamp_ms,amount', got 2");
        assert_eq!(parse("acc1,soon,1.00").unwrap_err(), "timestamp 'soon' is not an integer");
        assert_eq!(parse("acc1,5,lots").unwrap_err(), "amount 'lots' is not a number like 12.34");
    }
}
