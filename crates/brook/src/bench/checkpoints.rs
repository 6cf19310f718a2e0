//! `brook bench checkpoints`: how long a checkpoint of ~1 GB of keyed state takes and
//! how much it writes, with the hash-map backend (full), the RocksDB backend (full)
//! and the RocksDB backend incremental (the first checkpoint, and one after a
//! fraction of the keys changed).
//!
//! The backends are driven directly, without a job: fill one subtask's backend with
//! `keys` value states of `value_bytes` bytes, take the snapshot, and write it the way
//! a `file://` checkpoint does (the canonical bytes into one file; the new SST files
//! of an incremental snapshot copied into a shared directory, the reused ones not).
//! Duration = snapshot + write, what a checkpoint costs the task plus its upload.

use anyhow::Context as _;
use brook_state::{HashMapStateBackend, KeyedStateBackend, RocksDbStateBackend, ValueState, ValueStateDescriptor};
use brook_types::key_group::KeyGroupRange;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to checkpoint.
#[derive(Clone, Debug)]
pub struct CheckpointWorkload {
    pub keys: u64,
    pub value_bytes: usize,
    /// Percentage of keys updated before the second incremental checkpoint.
    pub changed_percent: f64,
    /// Where the backends and the "checkpoint storage" live (removed afterwards).
    pub dir: PathBuf,
}

/// One measured checkpoint.
#[derive(Clone, Debug)]
pub struct CheckpointFigure {
    pub what: &'static str,
    pub duration: Duration,
    /// Bytes written to checkpoint storage.
    pub written_bytes: u64,
    /// Bytes the checkpoint references in all (written now or by an earlier checkpoint).
    pub total_bytes: u64,
}

const MAX_PARALLELISM: usize = 128;

fn fill(
    backend: &mut KeyedStateBackend<u64>,
    state: &ValueState<Vec<u8>>,
    keys: impl Iterator<Item = u64>,
    w: &CheckpointWorkload,
    round: u8,
) {
    for key in keys {
        backend.value_state(state, &key, &()).update(payload(key, round, w.value_bytes));
    }
}

/// `len` pseudo-random bytes (xorshift64), so that neither RocksDB's LZ4 nor anything
/// else compresses the state away: the figures are for `len` real bytes per value.
fn payload(key: u64, round: u8, len: usize) -> Vec<u8> {
    let mut x = (key ^ (u64::from(round) << 56)).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut value = Vec::with_capacity(len + 8);
    while value.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        value.extend_from_slice(&x.to_le_bytes());
    }
    value.truncate(len);
    value
}

/// The keys changed before the second incremental checkpoint: every `1/fraction`-th.
fn changed_keys(w: &CheckpointWorkload) -> impl Iterator<Item = u64> {
    let step = (100.0 / w.changed_percent.max(0.01)).round().max(1.0) as u64;
    (0..w.keys).step_by(step as usize)
}

fn full_checkpoint(
    backend: &KeyedStateBackend<u64>,
    out: &Path,
    what: &'static str,
) -> anyhow::Result<CheckpointFigure> {
    let start = Instant::now();
    let snapshot = backend.snapshot().context("snapshot")?;
    std::fs::write(out, &snapshot.bytes).with_context(|| format!("write {}", out.display()))?;
    let duration = start.elapsed();
    let size = snapshot.bytes.len() as u64;
    std::fs::remove_file(out)?;
    Ok(CheckpointFigure { what, duration, written_bytes: size, total_bytes: size })
}

fn incremental_checkpoint(
    backend: &mut RocksDbStateBackend<u64>,
    id: u64,
    shared: &Path,
    what: &'static str,
) -> anyhow::Result<CheckpointFigure> {
    let start = Instant::now();
    let snapshot = backend.snapshot_incremental(id).context("incremental snapshot")?;
    let mut written = 0;
    for file in &snapshot.shared {
        written += std::fs::copy(&file.path, shared.join(&file.name)).context("upload an SST file")?;
    }
    for (name, bytes) in &snapshot.private {
        std::fs::write(shared.join(format!("chk-{id}-{name}")), bytes)?;
        written += bytes.len() as u64;
    }
    let duration = start.elapsed();
    let reused: u64 = snapshot.reused.iter().map(|n| std::fs::metadata(shared.join(n)).map_or(0, |m| m.len())).sum();
    backend.notify_checkpoint_complete(id);
    Ok(CheckpointFigure { what, duration, written_bytes: written, total_bytes: written + reused })
}

/// Runs the four checkpoints; removes everything it wrote.
pub fn run(w: &CheckpointWorkload) -> anyhow::Result<Vec<CheckpointFigure>> {
    std::fs::create_dir_all(&w.dir)?;
    let range = KeyGroupRange::for_operator_index(MAX_PARALLELISM, 1, 0);
    let descriptor = ValueStateDescriptor::<Vec<u8>>::new("payload");
    let mut figures = Vec::new();

    {
        let mut backend: KeyedStateBackend<u64> = HashMapStateBackend::new(MAX_PARALLELISM, range).into();
        let state = backend.register(&descriptor)?;
        fill(&mut backend, &state, 0..w.keys, w, 1);
        figures.push(full_checkpoint(&backend, &w.dir.join("hashmap-full"), "hashmap, full")?);
    }
    let rocksdb = RocksDbStateBackend::in_directory(&w.dir, MAX_PARALLELISM, range)?;
    let mut backend: KeyedStateBackend<u64> = rocksdb.into();
    let state = backend.register(&descriptor)?;
    fill(&mut backend, &state, 0..w.keys, w, 1);
    figures.push(full_checkpoint(&backend, &w.dir.join("rocksdb-full"), "rocksdb, full")?);
    let shared = w.dir.join("shared");
    std::fs::create_dir_all(&shared)?;
    let rocksdb = backend.as_rocksdb_mut().expect("a RocksDB backend");
    figures.push(incremental_checkpoint(rocksdb, 1, &shared, "rocksdb, incremental, first")?);
    fill(&mut backend, &state, changed_keys(w), w, 2);
    let rocksdb = backend.as_rocksdb_mut().expect("a RocksDB backend");
    figures.push(incremental_checkpoint(rocksdb, 2, &shared, "rocksdb, incremental, after changes")?);
    drop(backend);
    std::fs::remove_dir_all(&w.dir).with_context(|| format!("remove {}", w.dir.display()))?;
    Ok(figures)
}

/// The figures as a Markdown table.
pub fn markdown(w: &CheckpointWorkload, figures: &[CheckpointFigure]) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut out = format!(
        "{} keys × {} B values ({:.0} MiB raw); {}% of keys changed before the second incremental checkpoint\n\n\
         | checkpoint | duration | written | referenced |\n|---|---:|---:|---:|\n",
        w.keys,
        w.value_bytes,
        mib(w.keys * w.value_bytes as u64),
        w.changed_percent
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {:.2} s | {:.1} MiB | {:.1} MiB |\n",
            f.what,
            f.duration.as_secs_f64(),
            mib(f.written_bytes),
            mib(f.total_bytes)
        ));
    }
    out
}
