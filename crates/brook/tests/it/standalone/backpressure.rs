//! Backpressure across TaskManager processes: a sink that cannot write (its
//! TaskManager's stdout is a pipe nobody reads) stops, through credit-based flow
//! control, the source on the *other* TaskManager, whose memory stays bounded while
//! it waits; once the pipe drains, the job finishes with every update printed once.
//!
//! Two TaskManagers with one slot each run word count at parallelism 2: source,
//! tokenizer, counter and print sink of subtask `i` share slot `i`, and the keyed
//! exchange sends half of every source's words to the other TaskManager.

use super::{JobManager, Process, STARTUP, wait_until};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A TaskManager whose printed lines are collected by a thread that starts reading
/// only once `reading` is set: until then, its print sink blocks on a full pipe.
struct PrintingTaskManager {
    process: Process,
    printed: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicU64>,
    reading: Arc<AtomicBool>,
}

impl PrintingTaskManager {
    fn start(jm: &JobManager, reading: bool) -> Self {
        Self::start_with_slots(jm.rpc.rsplit(':').next().unwrap(), 1, reading)
    }

    fn start_with_slots(port: &str, slots: usize, reading: bool) -> Self {
        let args = [format!("jobmanager.rpc.port={port}"), format!("taskmanager.numberOfTaskSlots={slots}")]
            .into_iter()
            .flat_map(|setting| ["-D".to_string(), setting])
            .collect::<Vec<_>>();
        let mut process = Process::start_with_stdout("taskmanager", &args, Stdio::piped());
        let (printed, count, reading) =
            (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(reading)));
        let stdout = process.child.stdout.take().unwrap();
        let (p, c, r) = (printed.clone(), count.clone(), reading.clone());
        std::thread::spawn(move || {
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                p.lock().unwrap().push(line);
                c.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { process, printed, count, reading }
    }

    fn pid(&self) -> u32 {
        self.process.child.id()
    }
}

/// A field of /proc/PID/status in kB (e.g. "VmRSS", "VmHWM").
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// User plus system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Two files of `lines` lines of four words each, over 50 words.
fn write_input(dir: &Path, lines: usize) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for f in 0..2 {
        let mut text = String::new();
        for i in 0..lines {
            let n = f * lines + i;
            for w in [n % 50, (n * 7) % 50, (n * 13 + 1) % 50, (n / 3) % 50] {
                text.push_str(&format!("word{w} "));
                *counts.entry(format!("word{w}")).or_insert(0) += 1;
            }
            text.push('\n');
        }
        std::fs::write(dir.join(format!("part-{f}.txt")), text).unwrap();
    }
    counts
}

#[test]
fn a_blocked_sink_on_one_task_manager_stops_the_source_on_the_other_with_bounded_memory() {
    const LINES: usize = 300_000;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let counts = write_input(&input, LINES);
    let input_bytes: u64 = std::fs::read_dir(&input).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();

    let mut jm = JobManager::start();
    let a = PrintingTaskManager::start(&jm, true);
    jm.wait_for_task_managers(1);
    let b = PrintingTaskManager::start(&jm, false);
    jm.wait_for_task_managers(2);
    let rss_before = status_kb(a.pid(), "VmRSS");

    let args: Vec<String> =
        ["--input", input.to_str().unwrap(), "--execution-mode", "streaming"].map(String::from).to_vec();
    let job = jm.submit(&args, &[("parallelism.default", "2")]);
    jm.wait_for_state(&job, "RUNNING", STARTUP);

    // TaskManager B's sink blocks on its full stdout; A's counter prints until A's
    // source cannot send B its share any more. Wait until A prints nothing for a second.
    let mut last = (a.count.load(Ordering::SeqCst), Instant::now());
    wait_until(
        Duration::from_secs(60),
        || {
            let now = a.count.load(Ordering::SeqCst);
            if now != last.0 {
                last = (now, Instant::now());
            }
            now > 0 && last.1.elapsed() > Duration::from_secs(1)
        },
        || format!("TaskManager A printed {} lines and kept printing", a.count.load(Ordering::SeqCst)),
    );
    let (printed, ticks, rss) = (a.count.load(Ordering::SeqCst), cpu_ticks(a.pid()), status_kb(a.pid(), "VmRSS"));
    std::thread::sleep(Duration::from_secs(2));
    let ticks_per_second = 100; // USER_HZ on Linux
    let idle_cpu = cpu_ticks(a.pid()) - ticks;
    let stalled_rss = status_kb(a.pid(), "VmRSS");
    let total_updates: u64 = counts.values().sum();
    eprintln!(
        "TaskManager A: printed {printed} of {total_updates} updates, then stopped; RSS {} MiB before the job, {} MiB \
         when it stopped, {} MiB two seconds later; CPU in those two seconds: {} ticks; input {} MiB",
        rss_before / 1024,
        rss / 1024,
        stalled_rss / 1024,
        idle_cpu,
        input_bytes >> 20
    );
    assert_eq!(a.count.load(Ordering::SeqCst), printed, "A's source and counter stay stopped");
    assert!(printed < total_updates / 2, "A stopped long before its share of the input was counted: {printed}");
    assert!(idle_cpu < ticks_per_second / 2, "A waits without spinning: {idle_cpu} ticks in 2 s");
    // Without flow control, A's source would read on and queue B's half of the input
    // (1.2 M words as (String, i64) records: over 60 MiB). Credits bound what waits
    // for B to a few 32 KiB buffers; what A allocated for the job (tasks, buffers,
    // allocator arenas) was 23, 31 and 29 MiB for inputs of 5, 26 and 53 MiB.
    let grown_mib = stalled_rss.saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 48, "A's memory grew by {grown_mib} MiB while it waited");
    assert!(stalled_rss <= rss + 1024, "A's memory did not grow while it waited: {rss} kB, then {stalled_rss} kB");

    // B's stdout drains: the job finishes, and every (word, k) update was printed once.
    b.reading.store(true, Ordering::SeqCst);
    jm.wait_for_state(&job, "FINISHED", Duration::from_secs(120));
    let mut printed: BTreeMap<String, u64> = BTreeMap::new();
    for tm in [&a, &b] {
        for line in tm.printed.lock().unwrap().iter() {
            let update = line.split_once("> ").map_or(line.as_str(), |(_, u)| u);
            *printed.entry(update.to_string()).or_insert(0) += 1;
        }
    }
    let expected: BTreeMap<String, u64> =
        counts.iter().flat_map(|(word, n)| (1..=*n).map(move |k| (format!("({word},{k})"), 1))).collect();
    assert_eq!(printed.len(), expected.len());
    assert!(printed == expected, "every update printed once");
}

/// A sink that blocks is backpressure, not a failure: a TaskManager whose every
/// worker thread is stuck in a blocked write keeps heartbeating and stays registered.
#[test]
fn a_task_manager_whose_sinks_all_block_keeps_heartbeating() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    write_input(&input, 50_000);
    let mut jm = JobManager::start_with(&["heartbeat.interval=200 ms", "heartbeat.timeout=1 s"]);
    // As many slots as the machine has cores: the TaskManager's worker threads.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let port = jm.rpc.rsplit(':').next().unwrap().to_string();
    let blocked = PrintingTaskManager::start_with_slots(&port, cores, false);
    jm.wait_for_task_managers(1);
    let args: Vec<String> =
        ["--input", input.to_str().unwrap(), "--execution-mode", "streaming"].map(String::from).to_vec();
    let job = jm.submit(&args, &[("parallelism.default", &cores.to_string())]);
    jm.wait_for_state(&job, "RUNNING", STARTUP);
    // Three heartbeat timeouts with every sink blocked on the full pipe.
    std::thread::sleep(Duration::from_secs(3));
    let log = jm.process.log();
    assert!(!log.contains("is lost"), "the JobManager lost the blocked TaskManager:\n{log}");
    assert_eq!(jm.job_state(&job), "RUNNING");
    blocked.reading.store(true, Ordering::SeqCst);
    jm.wait_for_state(&job, "FINISHED", Duration::from_secs(60));
}
