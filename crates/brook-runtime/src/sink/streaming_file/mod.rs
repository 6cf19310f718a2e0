//! The exactly-once file sink (Flink's `StreamingFileSink` / `FileSink` with a row
//! format): part files in one directory that become visible only when the checkpoint
//! that covers them completes.
//!
//! ```text
//!  write ─▶ .part-<uuid>-<subtask>-<n>.inprogress ──roll (size, time, barrier, end of input)──▶
//!           .part-<uuid>-<subtask>-<n>.pending ──commit (checkpoint complete)──▶ part-<subtask>-<n>
//! ```
//!
//! Each step is a rename within the directory, so a reader listing the directory
//! and skipping hidden files (names starting with `.`) sees only committed data. It
//! is a [`TwoPhaseCommitSink`]: one transaction holds the part files rolled between
//! two barriers. On restore, pending files of the restored checkpoint are committed
//! (if not already) and every other hidden file the subtask is responsible for is
//! deleted: the part files always roll at the barrier, so everything in progress at
//! a restore was written after the checkpoint and is replayed. The design and the
//! guarantees are in `docs/design/file-sink.md`.
//!
//! Local file systems (and mounts) only: it relies on atomic `rename`.

mod names;
mod rolling;
#[cfg(test)]
mod tests;

pub use rolling::RollingPolicy;

use super::file::{FileFormat, FileRecord};
use super::two_phase_commit::TwoPhaseCommitSink;
use crate::functions::RuntimeContext;
use crate::processing_time::ProcessingTimeService;
use brook_types::{Batch, BrookError, Result, Timestamp};
use names::PartFileName;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// One transaction: the part files closed since the last barrier, as file names in
/// the sink's directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTransaction {
    pub parts: Vec<PendingPart>,
}

/// A closed part file and the name it is committed under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPart {
    pub pending: String,
    pub finished: String,
    /// Bytes written, for logs and checks.
    pub size: u64,
}

/// The part file being written.
struct InProgressPart {
    writer: BufWriter<File>,
    name: String,
    part: u64,
    size: u64,
    opened: Timestamp,
    written: Timestamp,
}

/// Writes records as lines into part files in `dir`, exactly once with
/// checkpointing (see the module docs).
pub struct StreamingFileSink<T> {
    dir: PathBuf,
    format: FileFormat,
    policy: RollingPolicy,
    subtask: usize,
    parallelism: usize,
    uuid: String,
    next_part: u64,
    in_progress: Option<InProgressPart>,
    clock: ProcessingTimeService,
    line: String,
    _type: PhantomData<fn(T)>,
}

impl<T> Clone for StreamingFileSink<T> {
    /// A sink with the same settings that has not opened anything yet.
    fn clone(&self) -> Self {
        Self::for_row_format(self.dir.clone(), self.format).with_rolling_policy(self.policy)
    }
}

impl<T> StreamingFileSink<T> {
    /// Lines of `format` into part files in the directory `dir` (created if missing).
    pub fn for_row_format(dir: impl Into<PathBuf>, format: FileFormat) -> Self {
        Self {
            dir: dir.into(),
            format,
            policy: RollingPolicy::default(),
            subtask: 0,
            parallelism: 1,
            uuid: String::new(),
            next_part: 0,
            in_progress: None,
            clock: ProcessingTimeService::new(),
            line: String::new(),
            _type: PhantomData,
        }
    }

    pub fn with_rolling_policy(mut self, policy: RollingPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn open_part(&mut self) -> Result<()> {
        let part = self.next_part;
        self.next_part += 1;
        let name = names::in_progress(&self.uuid, self.subtask, part);
        let path = self.path(&name);
        let file = File::create(&path).map_err(|e| BrookError::io("cannot create part file", &path, e))?;
        let now = self.clock.now();
        self.clock.register(self.policy.deadline(now, now));
        self.in_progress = Some(InProgressPart {
            writer: BufWriter::with_capacity(1 << 16, file),
            name,
            part,
            size: 0,
            opened: now,
            written: now,
        });
        Ok(())
    }

    /// Closes the in-progress part (durably) and adds it to `transaction` as pending.
    fn roll(&mut self, transaction: &mut FileTransaction) -> Result<()> {
        let Some(InProgressPart { writer, name, part, size, .. }) = self.in_progress.take() else { return Ok(()) };
        let path = self.path(&name);
        let file = writer.into_inner().map_err(|e| BrookError::io("cannot write part file", &path, e.into_error()))?;
        file.sync_data().map_err(|e| BrookError::io("cannot sync part file", &path, e))?;
        drop(file);
        let pending = names::pending(&self.uuid, self.subtask, part);
        let pending_path = self.path(&pending);
        std::fs::rename(&path, &pending_path).map_err(|e| BrookError::io("cannot close part file", &path, e))?;
        tracing::debug!(subtask = self.subtask, part = %pending, size, "part file rolled");
        transaction.parts.push(PendingPart { pending, finished: names::finished(self.subtask, part), size });
        Ok(())
    }

    /// Renames the pending parts to their final names; `recovering`: a part whose
    /// files are both gone is reported, not an error (Flink's `commitAfterRecovery`).
    fn commit_parts(&self, transaction: &FileTransaction, recovering: bool) -> Result<()> {
        for part in &transaction.parts {
            let (from, to) = (self.path(&part.pending), self.path(&part.finished));
            match std::fs::rename(&from, &to) {
                Ok(()) => {}
                // Committed before (the notification or an earlier restore got here first).
                Err(e) if e.kind() == ErrorKind::NotFound && to.exists() => {}
                Err(e) if e.kind() == ErrorKind::NotFound && recovering => {
                    tracing::error!(
                        pending = %from.display(),
                        finished = %to.display(),
                        "a pending part file of the restored checkpoint is gone and was never committed: its records \
                         are lost (was the directory changed by hand?)"
                    );
                }
                Err(e) => return Err(BrookError::io("cannot commit part file", &from, e)),
            }
        }
        if !transaction.parts.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<()> {
        let path = self.path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BrookError::io("cannot delete part file", &path, e)),
        }
    }
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| BrookError::io("cannot sync directory", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl<T: FileRecord + Send> TwoPhaseCommitSink<T> for StreamingFileSink<T> {
    type Transaction = FileTransaction;

    fn open(&mut self, ctx: &RuntimeContext) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| BrookError::io("cannot create output directory", &self.dir, e))?;
        self.subtask = ctx.subtask_index;
        self.parallelism = ctx.parallelism.max(1);
        self.uuid = names::random_uuid();
        self.clock = ctx.processing_time.clone();
        Ok(())
    }

    /// Deletes the hidden part files of old subtasks `s` with `s % parallelism ==
    /// subtask` (committed ones are not hidden any more) and continues numbering
    /// after this subtask's highest committed part.
    fn finish_recovery(&mut self) -> Result<()> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| BrookError::io("cannot list output directory", &self.dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BrookError::io("cannot list output directory", &self.dir, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            match names::parse(&name) {
                Some(PartFileName::Finished { subtask, part }) if subtask == self.subtask => {
                    self.next_part = self.next_part.max(part + 1);
                }
                Some(PartFileName::Hidden { subtask }) if subtask % self.parallelism == self.subtask => {
                    tracing::info!(subtask = self.subtask, file = %name, "deleting a part file no checkpoint holds");
                    self.remove(&name)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn begin_transaction(&mut self) -> Result<FileTransaction> {
        Ok(FileTransaction::default())
    }

    fn write(&mut self, transaction: &mut FileTransaction, batch: Batch<T>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        if let Some(p) = &self.in_progress
            && self.policy.expired(p.opened, p.written, now)
        {
            self.roll(transaction)?;
        }
        for record in &batch {
            if self.in_progress.is_none() {
                self.open_part()?;
            }
            self.line.clear();
            match self.format {
                FileFormat::Text => record.value.write_text(&mut self.line),
                FileFormat::Csv => record.value.write_csv(&mut self.line),
            }
            self.line.push('\n');
            let part = self.in_progress.as_mut().expect("opened above");
            if let Err(e) = part.writer.write_all(self.line.as_bytes()) {
                return Err(BrookError::io("cannot write part file", self.dir.join(&part.name), e));
            }
            part.size += self.line.len() as u64;
            part.written = now;
            if self.policy.full(part.size) {
                self.roll(transaction)?;
            }
        }
        Ok(())
    }

    fn on_processing_time(&mut self, transaction: &mut FileTransaction, now: Timestamp) -> Result<()> {
        let Some(p) = &self.in_progress else { return Ok(()) };
        if self.policy.expired(p.opened, p.written, now) {
            self.roll(transaction)
        } else {
            self.clock.register(self.policy.deadline(p.opened, p.written));
            Ok(())
        }
    }

    fn pre_commit(&mut self, transaction: &mut FileTransaction) -> Result<()> {
        self.roll(transaction)
    }

    fn commit(&mut self, transaction: FileTransaction) -> Result<()> {
        self.commit_parts(&transaction, false)
    }

    fn recover_and_commit(&mut self, transaction: FileTransaction) -> Result<()> {
        self.commit_parts(&transaction, true)
    }

    fn abort(&mut self, transaction: FileTransaction) -> Result<()> {
        if let Some(part) = self.in_progress.take() {
            drop(part.writer);
            self.remove(&part.name)?;
        }
        transaction.parts.iter().try_for_each(|p| self.remove(&p.pending))
    }
}
