//! Incremental checkpoints: RocksDB's own files instead of the canonical format.
//!
//! SST files never change once written, so a checkpoint that finds an SST file an
//! earlier completed checkpoint already uploaded only references it. The protocol
//! with the checkpoint layer (which owns uploads and reference counts):
//!
//! 1. At the barrier of checkpoint `n`: [`RocksDbStateBackend::snapshot_incremental`]`(n)`
//!    flushes the memtables and hard-links the DB's live files into a local
//!    directory ([`IncrementalSnapshot`]; removed when it is dropped).
//! 2. Asynchronously, the checkpoint layer uploads every file of
//!    [`IncrementalSnapshot::shared`] to shared storage (e.g.
//!    `<job>/shared/<subtask-uid>-<name>`), looks up the URL it used earlier for every
//!    name in [`IncrementalSnapshot::reused`], and stores [`IncrementalSnapshot::private`]
//!    (MANIFEST, CURRENT, OPTIONS: small, rewritten every time) and
//!    [`IncrementalSnapshot::meta`] in the subtask's state handle of checkpoint `n`,
//!    together with the file name → URL map of all its SST files. It registers
//!    those URLs for checkpoint `n` with `brook_checkpoint::SharedStateRegistry`.
//! 3. When checkpoint `n` completes: [`RocksDbStateBackend::notify_checkpoint_complete`]`(n)`;
//!    its SST files become the ones later checkpoints reuse. An aborted checkpoint:
//!    [`RocksDbStateBackend::notify_checkpoint_aborted`]`(n)`. Until a completion
//!    arrives, checkpoints reuse the files of the last completed one, so a file is
//!    only ever reused if a completed checkpoint references it.
//! 4. Restore: download every file of the handle (shared and private) into one
//!    directory per old subtask, under its original name, and call
//!    [`RocksDbStateBackend::restore_incremental`] with the directories and metas,
//!    on a new backend before it is used. Without rescaling (one source with this
//!    backend's key groups) the files become the DB and their SST files count as
//!    uploaded, so the next checkpoint reuses them (the restoring subtask must then
//!    know their URLs from the handle). With rescaling, the source that overlaps
//!    most becomes the DB and foreign key groups are range-deleted; the rows of this
//!    backend's key groups in the other sources are copied in.

use super::column::{CfInfo, main_cf, restored_cf};
use super::{RocksDbStateBackend, cf_options, db_options, keys};
use crate::descriptor::StateKind;
use crate::error::{Result, StateError};
use crate::heap::StateKey;
use brook_types::key_group::KeyGroupRange;
use rocksdb::checkpoint::Checkpoint;
use rocksdb::{ColumnFamilyDescriptor, DB, Direction, IteratorMode, ReadOptions, WriteBatch};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The first bytes of an incremental snapshot's metadata.
const META_MAGIC: [u8; 4] = *b"BRKR";
/// The metadata format this build writes and the newest it reads.
const META_VERSION: u16 = 1;

/// An SST file of an incremental snapshot, in the snapshot's local directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SstFile {
    /// The file's name in the DB (`000012.sst`): unique within one backend's
    /// lineage of checkpoints and restores, not across subtasks.
    pub name: String,
    /// Where to read it from until the snapshot is dropped.
    pub path: PathBuf,
    pub size: u64,
}

/// A native RocksDB snapshot of one operator subtask's keyed state. Dropping it
/// removes its local directory: upload first.
#[derive(Debug)]
pub struct IncrementalSnapshot {
    pub checkpoint_id: u64,
    /// SST files no completed checkpoint has uploaded: upload them.
    pub shared: Vec<SstFile>,
    /// SST files the last completed checkpoint referenced: already uploaded, reference them.
    pub reused: Vec<String>,
    /// The DB's other files (MANIFEST, CURRENT, OPTIONS, …): small, store them with
    /// this checkpoint only.
    pub private: Vec<(String, Vec<u8>)>,
    /// The backend's metadata (key groups, states, SST file names): store it with
    /// the handle and pass it back to restore.
    pub meta: Vec<u8>,
    /// The local directory holding the files; dropping it removes them.
    pub dir: tempfile::TempDir,
}

impl IncrementalSnapshot {
    /// The names of all SST files the snapshot consists of (shared and reused).
    pub fn sst_file_names(&self) -> BTreeSet<String> {
        self.shared.iter().map(|f| f.name.clone()).chain(self.reused.iter().cloned()).collect()
    }

    /// The local directory holding the snapshot's files.
    pub fn local_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where file `name` of the snapshot (shared, reused or private) is until the
    /// snapshot is dropped.
    pub fn file_path(&self, name: &str) -> PathBuf {
        self.dir.path().join("db").join(name)
    }
}

/// One old subtask's incremental snapshot, downloaded for a restore.
#[derive(Clone, Debug)]
pub struct IncrementalRestoreSource {
    /// A directory holding every file of the snapshot (shared, reused and private)
    /// under its original name. Files are hard-linked or copied, never changed.
    pub dir: PathBuf,
    /// [`IncrementalSnapshot::meta`].
    pub meta: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct CfMeta {
    state: String,
    kind: u8,
    stamped: bool,
    type_name: String,
    restored_at: i64,
    compaction_ttl_ms: Option<i64>,
}

/// What [`IncrementalSnapshot::meta`] holds (bincode).
#[derive(Serialize, Deserialize)]
struct Meta {
    magic: [u8; 4],
    version: u16,
    max_parallelism: u32,
    first_key_group: u32,
    last_key_group: u32,
    main: Vec<CfMeta>,
    restored: Vec<CfMeta>,
    sst_files: Vec<String>,
}

impl Meta {
    fn range(&self) -> KeyGroupRange {
        KeyGroupRange { start: self.first_key_group as usize, end: self.last_key_group as usize }
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "RocksDB incremental";
        if bytes.get(..4) != Some(&META_MAGIC) {
            return Err(StateError::BadMagic { expected: WHAT, found: bytes.iter().take(4).copied().collect() });
        }
        let version = bytes.get(4..6).map_or(0, |v| u16::from_le_bytes([v[0], v[1]]));
        if version > META_VERSION {
            return Err(StateError::UnsupportedVersion { what: WHAT, found: version, supported: META_VERSION });
        }
        let meta: Meta = crate::codec::decode(bytes).map_err(|_| StateError::Corrupt {
            what: WHAT,
            offset: 0,
            problem: "the metadata does not decode",
        })?;
        if meta.main.iter().chain(&meta.restored).any(|c| StateKind::from_code(c.kind).is_none()) {
            return Err(StateError::Corrupt { what: WHAT, offset: 0, problem: "a state has an unknown kind" });
        }
        Ok(meta)
    }
}

fn to_meta(states: &BTreeMap<String, CfInfo>) -> Vec<CfMeta> {
    states
        .iter()
        .map(|(state, info)| CfMeta {
            state: state.clone(),
            kind: info.kind.code(),
            stamped: info.stamped,
            type_name: info.type_name.clone(),
            restored_at: info.restored_at,
            compaction_ttl_ms: info.compaction_ttl_ms,
        })
        .collect()
}

fn from_meta(states: &[CfMeta]) -> impl Iterator<Item = (String, CfInfo)> + '_ {
    states.iter().map(|c| {
        let kind = StateKind::from_code(c.kind).expect("checked when decoded");
        (
            c.state.clone(),
            CfInfo {
                kind,
                stamped: c.stamped,
                type_name: c.type_name.clone(),
                restored_at: c.restored_at,
                compaction_ttl_ms: c.compaction_ttl_ms,
            },
        )
    })
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io { action, path, source }
}

/// Fills `to` with the files of `from`: SST files hard-linked (they are never
/// changed), the others copied (RocksDB appends to its MANIFEST).
fn link_files(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(io("create", to))?;
    for entry in std::fs::read_dir(from).map_err(io("list", from))? {
        let entry = entry.map_err(io("list", from))?;
        if !entry.file_type().map_err(io("inspect", &entry.path()))?.is_file() {
            continue;
        }
        let target = to.join(entry.file_name());
        let is_sst = entry.file_name().to_string_lossy().ends_with(".sst");
        if !is_sst || std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).map_err(io("copy", &entry.path()))?;
        }
    }
    Ok(())
}

/// The rows of key groups `range` are `[kg(start), kg(end + 1))`.
fn key_group_bounds(range: KeyGroupRange) -> (Vec<u8>, Vec<u8>) {
    let end =
        if range.end + 1 > u16::MAX as usize { vec![0xff; 3] } else { keys::key_group_bytes(range.end + 1).to_vec() };
    (keys::key_group_bytes(range.start).to_vec(), end)
}

impl<K: StateKey> RocksDbStateBackend<K> {
    /// Takes a native snapshot for checkpoint `checkpoint_id` (see the module
    /// docs for what the checkpoint layer does with it).
    pub fn snapshot_incremental(&mut self, checkpoint_id: u64) -> Result<IncrementalSnapshot> {
        let parent = self.workdir.path();
        let dir = tempfile::Builder::new()
            .prefix(&format!("chk-{checkpoint_id}-"))
            .tempdir_in(parent)
            .map_err(io("create a directory in", parent))?;
        let path = dir.path().join("db");
        let checkpoint = Checkpoint::new(&self.db).map_err(self.rocks_error("prepare a checkpoint"))?;
        checkpoint.create_checkpoint(&path).map_err(self.rocks_error("create a checkpoint"))?;
        drop(checkpoint);
        let (mut shared, mut reused, mut private) = (Vec::new(), Vec::new(), Vec::new());
        let mut sst_files = BTreeSet::new();
        for entry in std::fs::read_dir(&path).map_err(io("list", &path))? {
            let entry = entry.map_err(io("list", &path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".sst") {
                sst_files.insert(name.clone());
                if self.uploaded.contains(&name) {
                    reused.push(name);
                } else {
                    let size = entry.metadata().map_err(io("inspect", &entry.path()))?.len();
                    shared.push(SstFile { name, path: entry.path(), size });
                }
            } else {
                private.push((name, std::fs::read(entry.path()).map_err(io("read", &entry.path()))?));
            }
        }
        shared.sort_by(|a, b| a.name.cmp(&b.name));
        reused.sort();
        private.sort();
        let meta = Meta {
            magic: META_MAGIC,
            version: META_VERSION,
            max_parallelism: self.max_parallelism as u32,
            first_key_group: self.key_group_range.start as u32,
            last_key_group: self.key_group_range.end as u32,
            main: to_meta(&self.main),
            restored: to_meta(&self.restored),
            sst_files: sst_files.iter().cloned().collect(),
        };
        self.pending_checkpoints.insert(checkpoint_id, sst_files);
        Ok(IncrementalSnapshot {
            checkpoint_id,
            shared,
            reused,
            private,
            meta: bincode::serialize(&meta).expect("metadata encodes"),
            dir,
        })
    }

    /// Checkpoint `checkpoint_id` completed: its SST files are the ones later
    /// checkpoints reuse.
    pub fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) {
        if let Some(files) = self.pending_checkpoints.remove(&checkpoint_id) {
            self.uploaded = files;
        }
        self.pending_checkpoints.retain(|&id, _| id > checkpoint_id);
    }

    /// Checkpoint `checkpoint_id` will never complete.
    pub fn notify_checkpoint_aborted(&mut self, checkpoint_id: u64) {
        self.pending_checkpoints.remove(&checkpoint_id);
    }

    /// The SST files the next incremental checkpoint would reuse.
    pub fn uploaded_sst_files(&self) -> &BTreeSet<String> {
        &self.uploaded
    }

    /// Restores from the incremental snapshots of any number of old subtasks (of
    /// any parallelism, with the same max parallelism). Call on a new backend,
    /// before any state is used.
    pub fn restore_incremental(&mut self, sources: &[IncrementalRestoreSource]) -> Result<()> {
        if !self.main.is_empty() || !self.restored.is_empty() || self.columns.iter().any(Option::is_some) {
            return Err(StateError::IncrementalRestoreIntoUsedBackend { operator: self.operator.to_string() });
        }
        let metas = sources.iter().map(|s| Meta::decode(&s.meta)).collect::<Result<Vec<_>>>()?;
        for meta in &metas {
            if meta.max_parallelism as usize != self.max_parallelism {
                return Err(StateError::MaxParallelismMismatch {
                    operator: self.operator.to_string(),
                    snapshot: meta.max_parallelism as usize,
                    current: self.max_parallelism,
                });
            }
        }
        let own = self.key_group_range;
        let overlap = |r: KeyGroupRange| (r.end.min(own.end) + 1).saturating_sub(r.start.max(own.start));
        let base =
            (0..metas.len()).filter(|&i| overlap(metas[i].range()) > 0).max_by_key(|&i| overlap(metas[i].range()));

        self.generation += 1;
        let db_path = self.workdir.path().join(format!("db-{}", self.generation));
        if let Some(b) = base {
            link_files(&sources[b].dir, &db_path)?;
        }
        let db = self.open_with_column_families(&db_path, base.map(|b| &metas[b]), false).map_err(|source| {
            StateError::RocksDb {
                operator: self.operator.to_string(),
                action: "open the restored database",
                dir: db_path.clone(),
                source,
            }
        })?;
        let old_path = std::mem::replace(&mut self.db_path, db_path);
        drop(std::mem::replace(&mut self.db, db));
        // The new DB's column families were opened with options rust-rocksdb keeps.
        self.cf_options.clear();
        std::fs::remove_dir_all(&old_path).map_err(io("remove", &old_path))?;

        if let Some(b) = base {
            let meta = &metas[b];
            self.main.extend(from_meta(&meta.main));
            self.restored.extend(from_meta(&meta.restored));
            if meta.range() != own {
                self.delete_foreign_key_groups()?;
            } else if sources.len() == 1 {
                // The same files in the same places: the next checkpoint reuses them.
                self.uploaded = meta.sst_files.iter().cloned().collect();
            }
        }
        for (i, (source, meta)) in sources.iter().zip(&metas).enumerate() {
            if Some(i) == base || overlap(meta.range()) == 0 {
                continue;
            }
            self.copy_own_key_groups(source, meta)?;
        }
        Ok(())
    }

    /// Opens the DB at `path` with all its column families (creating it if
    /// missing); `meta`'s states get their compaction filters.
    fn open_with_column_families(
        &self,
        path: &Path,
        meta: Option<&Meta>,
        read_only: bool,
    ) -> std::result::Result<DB, rocksdb::Error> {
        let options = db_options();
        let names = if path.join("CURRENT").exists() { DB::list_cf(&options, path)? } else { Vec::new() };
        let filters: BTreeMap<String, i64> = meta
            .into_iter()
            .flat_map(|m| &m.main)
            .filter_map(|c| Some((main_cf(&c.state), c.compaction_ttl_ms?)))
            .collect();
        let descriptors = names.into_iter().map(|n| {
            let options = cf_options(filters.get(&n).copied(), &self.clock);
            ColumnFamilyDescriptor::new(n, options)
        });
        if read_only {
            DB::open_cf_descriptors_read_only(&options, path, descriptors, false)
        } else {
            DB::open_cf_descriptors(&options, path, descriptors)
        }
    }

    /// Range-deletes the rows of key groups outside this backend's range.
    fn delete_foreign_key_groups(&mut self) -> Result<()> {
        let (start, end) = key_group_bounds(self.key_group_range);
        let names: Vec<String> =
            self.main.keys().map(|n| main_cf(n)).chain(self.restored.keys().map(|n| restored_cf(n))).collect();
        let mut batch = WriteBatch::default();
        for name in &names {
            let handle = self.db.cf_handle(name).expect("the metadata lists the database's column families");
            batch.delete_range_cf(handle, &[][..], &start[..]);
            batch.delete_range_cf(handle, &end[..], &[0xff; 3][..]);
        }
        self.write_batch(batch)
    }

    /// Copies the rows of this backend's key groups from another old subtask's snapshot.
    fn copy_own_key_groups(&mut self, source: &IncrementalRestoreSource, meta: &Meta) -> Result<()> {
        let parent = self.workdir.path();
        let scratch = tempfile::Builder::new()
            .prefix("restore-")
            .tempdir_in(parent)
            .map_err(io("create a directory in", parent))?;
        link_files(&source.dir, scratch.path())?;
        let other =
            self.open_with_column_families(scratch.path(), None, true).map_err(|source| StateError::RocksDb {
                operator: self.operator.to_string(),
                action: "open an old subtask's database",
                dir: scratch.path().to_path_buf(),
                source,
            })?;
        let (start, end) = key_group_bounds(self.key_group_range);
        let kinds = [(&meta.main, true), (&meta.restored, false)];
        for (states, is_main) in kinds {
            for (name, info) in from_meta(states) {
                let known = if is_main { self.main.get(&name) } else { self.restored.get(&name) };
                if let Some(known) = known
                    && (known.kind != info.kind || known.stamped != info.stamped)
                {
                    return Err(StateError::RestoredTtlMismatch { operator: self.operator.to_string(), name });
                }
                let cf = if is_main { main_cf(&name) } else { restored_cf(&name) };
                self.create_cf(&cf, if is_main { info.compaction_ttl_ms } else { None })?;
                let Some(from) = other.cf_handle(&cf) else { continue };
                let to = self.db.cf_handle(&cf).expect("created above");
                let mut options = ReadOptions::default();
                options.set_iterate_upper_bound(end.clone());
                let mut batch = WriteBatch::default();
                for row in other.iterator_cf_opt(from, options, IteratorMode::From(&start, Direction::Forward)) {
                    let (key, value) = row.map_err(self.rocks_error("scan an old subtask's database"))?;
                    batch.put_cf(to, key, value);
                    if batch.len() >= super::RESTORE_BATCH_ROWS {
                        self.write_batch(std::mem::take(&mut batch))?;
                    }
                }
                self.write_batch(batch)?;
                let states = if is_main { &mut self.main } else { &mut self.restored };
                states.entry(name).or_insert(info);
            }
        }
        Ok(())
    }
}
