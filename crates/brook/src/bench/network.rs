//! `brook bench network`: throughput of the data plane between two processes.
//!
//! The command (the sender) starts a data plane, spawns the brook binary itself as the
//! receiver (`brook bench network --receive …`, a hidden flag), which starts its own
//! data plane and registers one typed input gate; the sender then opens one channel to
//! it over loopback TCP and sends `records` records of `record_size` bytes (a `String`,
//! with an event timestamp, as any `StreamRecord`) in batches of 1024 records, followed
//! by end of input. Both ends are the real data plane: `NetworkChannelWriter` (bincode,
//! credits, backlog) and `InputGate` fed by `RemoteGateSink`, with the default credits
//! (2 exclusive, 8 floating). The sender reports its true backlog (all buffers still to
//! send), so the receiver lends it the floating credits too. The receiver counts
//! records and bytes and checks them.
//!
//! Reported: records/s and payload MB/s (record bytes only, measured by the receiver
//! from its first to its last element), CPU seconds of both processes
//! (`getrusage(RUSAGE_SELF)`) and the peak RSS of both.

use crate::bench::rusage::ResourceUsage;
use anyhow::{Context as _, bail};
use brook_network::{ChannelId, NetworkConfig, NetworkEnvironment};
use brook_runtime::channel::{ChannelWriter, Credits, InputGate, NetworkChannelWriter, register_remote_channels};
use brook_types::{JobId, StreamElement, StreamRecord, VertexId};
use serde::{Deserialize, Serialize};
use std::future::poll_fn;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Records per buffer (Brook's default `execution.batch-size`).
pub const BATCH: usize = 1024;

fn channel() -> ChannelId {
    ChannelId { job: JobId(0xbe4c), vertex: VertexId(1), subtask: 0, input: 0, channel: 0, attempt: 0 }
}

/// What the receiver reports, as one JSON line.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReceiverReport {
    pub records: u64,
    pub payload_bytes: u64,
    /// From the first element to the end of input.
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_bytes: u64,
}

/// The figures of one run.
#[derive(Debug)]
pub struct NetworkFigures {
    pub record_size: usize,
    pub records: u64,
    pub receiver: ReceiverReport,
    pub sender_cpu_seconds: f64,
    pub sender_peak_rss_bytes: u64,
}

impl NetworkFigures {
    pub fn records_per_second(&self) -> f64 {
        self.receiver.records as f64 / self.receiver.seconds
    }

    pub fn payload_mb_per_second(&self) -> f64 {
        self.receiver.payload_bytes as f64 / self.receiver.seconds / 1e6
    }
}

/// The Markdown table of several runs.
pub fn markdown(runs: &[NetworkFigures]) -> String {
    let mut out = String::from(
        "| record size | records | seconds | records/s | payload MB/s | sender CPU s | receiver CPU s | sender peak RSS \
         MiB | receiver peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        out.push_str(&format!(
            "| {} B | {} | {:.2} | {:.0} | {:.1} | {:.2} | {:.2} | {:.1} | {:.1} |\n",
            r.record_size,
            r.records,
            r.receiver.seconds,
            r.records_per_second(),
            r.payload_mb_per_second(),
            r.sender_cpu_seconds,
            r.receiver.cpu_seconds,
            r.sender_peak_rss_bytes as f64 / (1 << 20) as f64,
            r.receiver.peak_rss_bytes as f64 / (1 << 20) as f64,
        ));
    }
    out
}

/// Kills the receiver if the sender gives up early.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the sender in this process and the receiver in a child process.
pub fn run(record_size: usize, records: u64) -> anyhow::Result<NetworkFigures> {
    anyhow::ensure!(record_size > 0, "--record-size must be at least 1");
    let exe = std::env::current_exe().context("cannot find the brook binary to run the receiver")?;
    let mut child = ChildGuard(
        Command::new(exe)
            .args(["bench", "network", "--receive", "--records", &records.to_string()])
            .args(["--record-size", &record_size.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the receiver process")?,
    );
    let mut lines = BufReader::new(child.0.stdout.take().context("the receiver has no stdout")?).lines();
    let address = match lines.next() {
        Some(Ok(line)) => line.strip_prefix("address ").map(str::to_string),
        _ => None,
    }
    .context("the receiver did not print its data-plane address")?;
    let before = ResourceUsage::of_this_process()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(send(&address, record_size, records))?;
    let report = match lines.next() {
        Some(Ok(line)) => serde_json::from_str::<ReceiverReport>(&line)
            .with_context(|| format!("the receiver reported something else: {line}"))?,
        _ => bail!("the receiver ended without a report"),
    };
    let after = ResourceUsage::of_this_process()?;
    let status = child.0.wait()?;
    anyhow::ensure!(status.success(), "the receiver failed: {status}");
    if report.records != records || report.payload_bytes != records * record_size as u64 {
        bail!(
            "the receiver got {} records and {} bytes, expected {records} and {}",
            report.records,
            report.payload_bytes,
            records * record_size as u64
        );
    }
    drop(runtime);
    Ok(NetworkFigures {
        record_size,
        records,
        receiver: report,
        sender_cpu_seconds: (after.cpu - before.cpu).as_secs_f64(),
        sender_peak_rss_bytes: after.peak_rss_bytes,
    })
}

async fn send(address: &str, record_size: usize, records: u64) -> anyhow::Result<()> {
    let network = NetworkEnvironment::start(NetworkConfig::default()).await?;
    let mut writer = NetworkChannelWriter::<String>::open(&network, address, channel())?;
    let value = "x".repeat(record_size);
    let mut left = records;
    let mut timestamp = 0;
    while left > 0 {
        let n = left.min(BATCH as u64) as usize;
        let batch: Vec<StreamRecord<String>> =
            (0..n).map(|i| StreamRecord::with_timestamp(value.clone(), timestamp + i as i64)).collect();
        timestamp += n as i64;
        left -= n as u64;
        // The backlog is the truth: every buffer still to send waits behind this one
        // (the receiver lends its floating credits against it).
        writer.set_backlog(1 + left.div_ceil(BATCH as u64) as usize);
        poll_fn(|cx| writer.poll_ready(cx)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        writer.send(StreamElement::Records(batch)).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    writer.send(StreamElement::EndOfInput).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Keep the connection until everything is written.
    while network.queued_bytes() > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    Ok(())
}

/// The receiver (`--receive`): prints `address <host:port>`, receives until end of
/// input, prints its report as one JSON line.
pub fn receive(record_size: usize, records: u64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let report = runtime.block_on(async {
        let network = NetworkEnvironment::start(NetworkConfig::default()).await?;
        let credits = Credits::default();
        let (mut gate, handle) = InputGate::<String>::new(1, credits);
        register_remote_channels(
            &handle,
            &network,
            vec![channel()],
            credits.exclusive_per_channel as u32,
            credits.floating_per_gate as u32,
        )?;
        println!("address {}", network.address());
        let (mut count, mut bytes) = (0u64, 0u64);
        let mut start = None;
        loop {
            let (_, element) = poll_fn(|cx| gate.poll_next(cx)).await;
            start.get_or_insert_with(Instant::now);
            match element {
                StreamElement::Records(batch) => {
                    count += batch.len() as u64;
                    bytes += batch.iter().map(|r| r.value.len() as u64).sum::<u64>();
                }
                StreamElement::EndOfInput => break,
                other => bail!("unexpected {} on the benchmark channel", other.kind()),
            }
        }
        let seconds = start.map_or(0.0, |s| s.elapsed().as_secs_f64());
        let usage = ResourceUsage::of_this_process()?;
        anyhow::Ok(ReceiverReport {
            records: count,
            payload_bytes: bytes,
            seconds,
            cpu_seconds: usage.cpu.as_secs_f64(),
            peak_rss_bytes: usage.peak_rss_bytes,
        })
    })?;
    if report.records != records || report.payload_bytes != records * record_size as u64 {
        eprintln!("bench network: the receiver got {} records, expected {records}", report.records);
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
