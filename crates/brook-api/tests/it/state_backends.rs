//! `state.backend.type` end to end: full checkpoints of either backend restore into
//! the other (the canonical format); RocksDB incremental checkpoints upload only new
//! SST files into `<job>/shared/`, reference the rest, delete what no retained
//! checkpoint uses, and restore at the same and at another parallelism.

use crate::support::{JOB_DEADLINE, SumAtEnd, ThrottledSequence, eventually, expected_sums, run, sorted};
use brook_api::{Configuration, JobClient, StreamExecutionEnvironment};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEYS: i64 = 500;

fn config(dir: &Path, extra: &[&str]) -> Configuration {
    let mut config = Configuration::new();
    let mut set = |pair: &str| config.set_dynamic(pair).expect("a valid option");
    set("taskmanager.numberOfTaskSlots=4");
    set(&format!("execution.checkpointing.dir=file://{}", dir.display()));
    set("execution.checkpointing.interval=30 ms");
    set("execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION");
    set("restart-strategy.type=fixed-delay");
    set("restart-strategy.fixed-delay.attempts=2");
    set("restart-strategy.fixed-delay.delay=10 ms");
    for pair in extra {
        set(pair);
    }
    config
}

/// A throttled sequence 1..=n (`per_ms` records per ms and subtask) → key_by(v % 500) → `SumAtEnd`.
fn sum_job(env: &StreamExecutionEnvironment, n: i64, per_ms: i64) -> brook_api::CollectHandle<(i64, i64, u64)> {
    env.from_source(ThrottledSequence { to: n, per_ms }, "Throttled Sequence")
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default())
        .uid("sums")
        .collect()
}

/// Cancels the job and waits until it ended (failing the test after [`JOB_DEADLINE`]).
fn cancel(client: &JobClient) {
    client.cancel();
    let deadline = Instant::now() + JOB_DEADLINE;
    while !client.snapshot().status.is_globally_terminal() {
        assert!(Instant::now() < deadline, "the job did not end: {:?}", client.snapshot());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the sum job with `options` until `checkpoints` checkpoints completed, cancels
/// it (keeping its checkpoints), and returns the latest checkpoint's directory.
fn checkpoint_then_cancel(dir: &Path, n: i64, options: &[&str], checkpoints: u64) -> String {
    let env = StreamExecutionEnvironment::with_configuration(config(dir, options));
    env.set_parallelism(2);
    let _out = sum_job(&env, n, 20);
    let client = env.execute_async("sums, canceled").unwrap();
    assert!(
        eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= checkpoints),
        "{checkpoints} checkpoints did not complete: {:?}",
        client.snapshot()
    );
    let (_, chk) = client.snapshot().latest_checkpoint.expect("a completed checkpoint");
    cancel(&client);
    chk
}

/// Restores the sum job from `chk` with `options` at `parallelism` and returns its output.
fn restore(
    dir: &Path,
    chk: &str,
    n: i64,
    options: &[&str],
    parallelism: usize,
) -> brook_api::Result<Vec<(i64, i64, u64)>> {
    let path = format!("execution.state-recovery.path={chk}");
    let mut pairs = options.to_vec();
    pairs.push(&path);
    let env = StreamExecutionEnvironment::with_configuration(config(dir, &pairs));
    env.set_parallelism(parallelism);
    // Fast: the restored job only has to finish.
    let out = sum_job(&env, n, 2_000);
    run(&env, "sums, restored")?;
    Ok(sorted(out.take()))
}

const HASHMAP: &[&str] = &["state.backend.type=hashmap"];
const ROCKSDB: &[&str] = &["state.backend.type=rocksdb"];
const ROCKSDB_INCREMENTAL: &[&str] = &["state.backend.type=rocksdb", "execution.checkpointing.incremental=true"];

#[test]
fn a_full_checkpoint_of_either_backend_restores_into_the_other() {
    let n = 30_000;
    for (from, to) in [(HASHMAP, ROCKSDB), (ROCKSDB, HASHMAP)] {
        let dir = tempfile::tempdir().unwrap();
        let chk = checkpoint_then_cancel(dir.path(), n, from, 2);
        for parallelism in [2, 3] {
            let sums = restore(dir.path(), &chk, n, to, parallelism).expect("the restored job finishes");
            assert_eq!(sums, expected_sums(n, KEYS), "{from:?} → {to:?} at parallelism {parallelism}");
        }
    }
}

#[test]
fn an_incremental_checkpoint_is_refused_by_the_hashmap_backend_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let chk = checkpoint_then_cancel(dir.path(), 30_000, ROCKSDB_INCREMENTAL, 1);
    let err = restore(dir.path(), &chk, 30_000, HASHMAP, 2).unwrap_err().to_string();
    assert!(err.contains("incremental RocksDB state of operator"), "{err}");
    assert!(err.contains("state.backend.type: rocksdb"), "{err}");
}

/// What one `_metadata` says about the incremental keyed state: per (operator,
/// subtask), SST name → shared file path (relative to the checkpoint directory).
type SharedFiles = BTreeMap<(String, u64), BTreeMap<String, String>>;

fn shared_files_of(metadata: &serde_json::Value) -> SharedFiles {
    let mut files = SharedFiles::new();
    for op in metadata["operators"].as_array().expect("operators") {
        for subtask in op["subtasks"].as_array().expect("subtasks") {
            let key = (op["operator_id"].as_str().unwrap().to_string(), subtask["subtask"].as_u64().unwrap());
            for keyed in subtask["keyed"].as_array().expect("keyed handles") {
                let Some(incremental) = keyed.get("incremental") else { continue };
                let entry = files.entry(key.clone()).or_default();
                for file in incremental["shared"].as_array().unwrap() {
                    let path = file["handle"]["file"]["path"].as_str().expect("a file handle (inline threshold 0)");
                    entry.insert(file["name"].as_str().unwrap().to_string(), path.to_string());
                }
            }
        }
    }
    files
}

/// The `chk-<n>` directories of the job under `dir` that have a `_metadata`, with it.
fn completed_checkpoints(dir: &Path) -> BTreeMap<u64, serde_json::Value> {
    let mut found = BTreeMap::new();
    let Ok(jobs) = std::fs::read_dir(dir) else { return found };
    for job in jobs.flatten() {
        let Ok(chks) = std::fs::read_dir(job.path()) else { continue };
        for chk in chks.flatten() {
            let name = chk.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_prefix("chk-").and_then(|n| n.parse::<u64>().ok()) else { continue };
            // Read while the checkpoint may be deleted: skip what vanishes or is half-seen.
            let Ok(bytes) = std::fs::read(chk.path().join("_metadata")) else { continue };
            if let Ok(json) = serde_json::from_slice(&bytes) {
                found.insert(id, json);
            }
        }
    }
    found
}

fn shared_dir(dir: &Path) -> PathBuf {
    let job = std::fs::read_dir(dir).unwrap().flatten().find(|e| e.path().is_dir()).expect("a job directory");
    job.path().join("shared")
}

#[test]
fn incremental_checkpoints_upload_only_new_files_and_delete_unreferenced_ones() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000;
    let options = [
        ROCKSDB_INCREMENTAL[0],
        ROCKSDB_INCREMENTAL[1],
        "execution.checkpointing.num-retained=1",
        "execution.checkpointing.data-inline-threshold=0 b",
    ];
    let env = StreamExecutionEnvironment::with_configuration(config(dir.path(), &options));
    env.set_parallelism(2);
    let _out = sum_job(&env, n, 20);
    let client = env.execute_async("incremental checkpoints").unwrap();
    // Watch the completed checkpoints go by (each is deleted when the next completes).
    let mut seen: BTreeMap<u64, SharedFiles> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 6 {
        assert!(Instant::now() < deadline, "saw only checkpoints {:?}: {:?}", seen.keys(), client.snapshot());
        for (id, metadata) in completed_checkpoints(dir.path()) {
            seen.entry(id).or_insert_with(|| shared_files_of(&metadata));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cancel(&client);

    // A later checkpoint references the files it shares with an earlier one by the
    // same handle: they were uploaded once.
    let ids: Vec<u64> = seen.keys().copied().collect();
    let mut reused = 0;
    for pair in ids.windows(2) {
        let (earlier, later) = (&seen[&pair[0]], &seen[&pair[1]]);
        assert_eq!(earlier.keys().collect::<Vec<_>>(), later.keys().collect::<Vec<_>>(), "the same subtasks");
        for (subtask, files) in later {
            for (name, path) in files {
                if let Some(before) = earlier[subtask].get(name) {
                    assert_eq!(path, before, "checkpoint {} uploaded {name} again", pair[1]);
                    reused += 1;
                } else {
                    assert!(
                        !earlier[subtask].values().any(|p| p == path),
                        "checkpoint {} reuses a path for a new file",
                        pair[1]
                    );
                }
            }
        }
    }
    assert!(reused > 0, "no checkpoint reused a file: {seen:?}");

    // Retained: exactly one complete checkpoint. The shared directory holds every file
    // it references, and no file that only subsumed checkpoints referenced.
    let retained = completed_checkpoints(dir.path());
    assert_eq!(retained.len(), 1, "num-retained=1 keeps one: {:?}", retained.keys());
    let file_name = |path: &String| path.rsplit('/').next().unwrap().to_string();
    let referenced: BTreeSet<String> = retained
        .values()
        .flat_map(|m| shared_files_of(m).into_values().flat_map(|f| f.into_values()))
        .map(|p| file_name(&p))
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(shared_dir(dir.path()))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(referenced.is_subset(&on_disk), "missing shared files: {:?}", referenced.difference(&on_disk));
    let subsumed_only: BTreeSet<String> = seen
        .iter()
        .filter(|(id, _)| !retained.contains_key(id))
        .flat_map(|(_, files)| files.values().flat_map(|f| f.values()).map(file_name))
        .filter(|f| !referenced.contains(f))
        .collect();
    assert!(!subsumed_only.is_empty(), "compactions replaced some files between the checkpoints seen");
    let left: Vec<&String> = subsumed_only.intersection(&on_disk).collect();
    assert!(left.is_empty(), "shared files no retained checkpoint uses were not deleted: {left:?}");

    // The retained incremental checkpoint restores exactly, at the same parallelism
    // (native files) and at another one (key-group filtering).
    let (_, chk) = client.snapshot().latest_checkpoint.expect("a completed checkpoint");
    for parallelism in [2, 3] {
        let sums = restore(dir.path(), &chk, n, ROCKSDB_INCREMENTAL, parallelism).expect("the restored job finishes");
        assert_eq!(sums, expected_sums(n, KEYS), "restored at parallelism {parallelism}");
    }
}

#[test]
fn after_a_failover_incremental_checkpoints_never_upload_a_restored_file_again() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let n = 150_000;
    let options = [
        ROCKSDB_INCREMENTAL[0],
        ROCKSDB_INCREMENTAL[1],
        // Three retained: each `_metadata` stays long enough for the test to read it.
        "execution.checkpointing.num-retained=3",
        "execution.checkpointing.data-inline-threshold=0 b",
    ];
    let env = StreamExecutionEnvironment::with_configuration(config(dir.path(), &options));
    env.set_parallelism(2);
    let (armed, panicked) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let (a, p) = (armed.clone(), panicked.clone());
    let out = env
        .from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
        .map(move |v: i64| {
            if a.load(Ordering::Relaxed) && !p.swap(true, Ordering::SeqCst) {
                panic!("injected failure at record {v}");
            }
            v
        })
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default())
        .collect();
    let client = env.execute_async("incremental checkpoints across a failover").unwrap();
    let mut seen: BTreeMap<u64, SharedFiles> = BTreeMap::new();
    let mut first_after_restart = None;
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        assert!(Instant::now() < deadline, "saw checkpoints {:?}: {:?}", seen.keys(), client.snapshot());
        let snapshot = client.snapshot();
        for (id, metadata) in completed_checkpoints(dir.path()) {
            if seen.insert(id, shared_files_of(&metadata)).is_none() && snapshot.restarts == 1 {
                first_after_restart.get_or_insert(id);
            }
        }
        if seen.len() >= 4 && !armed.load(Ordering::SeqCst) {
            armed.store(true, Ordering::SeqCst);
        }
        if first_after_restart.is_some_and(|first| seen.keys().filter(|&&id| id >= first).count() >= 3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(panicked.load(Ordering::SeqCst), "the failure was injected");
    // Every SST file of a subtask was uploaded once: one path per name, before and
    // after the restore (a restored file that was uploaded again would get a new path).
    let mut paths: BTreeMap<(String, u64, String), BTreeSet<String>> = BTreeMap::new();
    for files in seen.values() {
        for ((operator, subtask), names) in files {
            for (name, path) in names {
                paths.entry((operator.clone(), *subtask, name.clone())).or_default().insert(path.clone());
            }
        }
    }
    let twice: Vec<_> = paths.iter().filter(|(_, p)| p.len() > 1).collect();
    assert!(twice.is_empty(), "files uploaded again after the failover: {twice:?}");
    // Checkpoints after the restore did happen. (Whether they still contain restored
    // files depends on RocksDB: opening the restored DB may compact every file away;
    // when one survives, the check above proves it was referenced, not uploaded again.)
    let first = first_after_restart.expect("checkpoints after the restart");
    assert!(seen.range(..first).next().is_some(), "checkpoints before the restart were seen");
    client.wait_for_result().expect("the job recovers and finishes");
    assert_eq!(client.snapshot().restarts, 1);
    assert_eq!(sorted(out.take()), expected_sums(n, KEYS));
}
