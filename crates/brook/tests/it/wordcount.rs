//! `brook run --local wordcount`: exact results at several parallelisms, in
//! BATCH and STREAMING mode (with and without checkpoints), to part files in an
//! output directory and to stdout.

use crate::cli::brook;
use crate::text::{sample, word_counts};
use std::collections::BTreeMap;
use std::path::Path;

/// A temporary directory holding the sample text, and where output goes.
struct Workspace {
    _dir: tempfile::TempDir,
    input: String,
    output: String,
    counts: BTreeMap<String, u64>,
}

impl Workspace {
    fn new() -> Self {
        Self::with_text(&sample(400))
    }

    fn with_text(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let input = dir.path().join("input.txt");
        std::fs::write(&input, text).expect("writing the input file");
        let output = dir.path().join("out").join("counts");
        Self { input: utf8(&input), output: utf8(&output), counts: word_counts(text), _dir: dir }
    }

    /// `word,count` with each word's final count, sorted.
    fn final_counts(&self) -> Vec<String> {
        sorted(self.counts.iter().map(|(w, n)| format!("{w},{n}")))
    }

    /// `word,1` … `word,k` for a word seen k times: every update STREAMING emits, sorted.
    fn every_update(&self) -> Vec<String> {
        sorted(self.counts.iter().flat_map(|(w, &n)| (1..=n).map(move |i| format!("{w},{i}"))))
    }
}

pub fn utf8(path: &Path) -> String {
    path.to_str().expect("temporary paths are UTF-8").to_string()
}

fn sorted(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut lines: Vec<String> = lines.into_iter().collect();
    lines.sort();
    lines
}

/// The committed part files of an output directory (`part-<subtask>-<n>`), sorted;
/// checks that nothing in progress or pending is left.
fn part_files(dir: &str) -> Vec<String> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {dir}: {e}"));
    let names = entries.map(|e| e.expect("a directory entry").file_name().into_string().expect("UTF-8 names"));
    let names = sorted(names);
    for name in &names {
        let fields: Vec<&str> = name.split('-').collect();
        assert!(
            fields.len() == 3 && fields[0] == "part" && fields[1..].iter().all(|f| f.parse::<u64>().is_ok()),
            "only committed part files are left in {dir}, found {name}"
        );
    }
    names
}

/// The lines of every committed part file of an output directory, sorted.
fn file_lines(dir: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for name in part_files(dir) {
        let path = Path::new(dir).join(&name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert!(text.ends_with('\n'), "every output line ends with a newline");
        lines.extend(text.lines().map(str::to_string));
    }
    sorted(lines)
}

/// `brook run --local -p N -D taskmanager.numberOfTaskSlots=4 wordcount --input … --output … --execution-mode MODE`.
fn run_to_file(ws: &Workspace, parallelism: usize, mode: &str) -> Vec<String> {
    let p = parallelism.to_string();
    brook([
        "run",
        "--local",
        "-p",
        &p,
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "wordcount",
        "--input",
        &ws.input,
        "--output",
        &ws.output,
        "--execution-mode",
        mode,
    ])
    .assert_success();
    file_lines(&ws.output)
}

#[test]
fn batch_writes_final_counts_at_parallelism_1() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 1, "batch"), ws.final_counts());
}

#[test]
fn batch_writes_final_counts_at_parallelism_2() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 2, "batch"), ws.final_counts());
}

#[test]
fn batch_writes_final_counts_at_parallelism_4() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 4, "batch"), ws.final_counts());
}

#[test]
fn streaming_writes_every_update_at_parallelism_1() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 1, "streaming"), ws.every_update());
}

#[test]
fn streaming_writes_every_update_at_parallelism_2() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 2, "streaming"), ws.every_update());
}

#[test]
fn streaming_writes_every_update_at_parallelism_4() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 4, "streaming"), ws.every_update());
}

/// With checkpoints every 20 ms the updates are committed by checkpoints and the
/// final checkpoint: every update exactly once, nothing left pending.
#[test]
fn streaming_with_checkpoints_commits_every_update_exactly_once() {
    let ws = Workspace::with_text(&sample(3_000));
    let checkpoints = tempfile::tempdir().expect("a temporary directory");
    brook([
        "run",
        "--local",
        "-p",
        "2",
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "-D",
        "execution.checkpointing.interval=20 ms",
        "-D",
        &format!("execution.checkpointing.dir=file://{}", utf8(checkpoints.path())),
        "wordcount",
        "--input",
        &ws.input,
        "--output",
        &ws.output,
        "--execution-mode",
        "streaming",
        "--rolling-size",
        "16 kb",
    ])
    .assert_success();
    assert_eq!(file_lines(&ws.output), ws.every_update());
}

/// `--rolling-size` rolls part files: each holds at most that many bytes plus one line.
#[test]
fn rolling_size_splits_the_output_into_part_files() {
    let ws = Workspace::new();
    brook([
        "run",
        "--local",
        "-p",
        "2",
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "wordcount",
        "--input",
        &ws.input,
        "--output",
        &ws.output,
        "--execution-mode",
        "streaming",
        "--rolling-size",
        "1 kb",
    ])
    .assert_success();
    let parts = part_files(&ws.output);
    assert!(parts.len() > 4, "{parts:?}");
    for part in &parts {
        let text = std::fs::read_to_string(Path::new(&ws.output).join(part)).expect("a part file");
        let last = text.trim_end_matches('\n').rsplit('\n').next().unwrap_or("").len() + 1;
        assert!(text.len() - last < 1024, "{part} rolled after 1 kb: {} bytes", text.len());
    }
    assert_eq!(file_lines(&ws.output), ws.every_update());
}

/// AUTOMATIC picks BATCH for a bounded file source: final counts only.
#[test]
fn automatic_mode_on_a_file_writes_final_counts() {
    let ws = Workspace::new();
    assert_eq!(run_to_file(&ws, 2, "automatic"), ws.final_counts());
}

/// An empty input gives an empty output directory, not a missing one.
#[test]
fn empty_input_gives_an_empty_output_directory() {
    let ws = Workspace::with_text("");
    assert_eq!(run_to_file(&ws, 2, "batch"), Vec::<String>::new());
    assert_eq!(part_files(&ws.output), Vec::<String>::new());
}

/// A file larger than one split (1 MiB) is read by several subtasks in byte
/// ranges; every line must be counted exactly once.
#[test]
fn batch_counts_a_file_read_in_byte_ranges_at_parallelism_4() {
    let ws = Workspace::with_text(&sample(60_000));
    let size = std::fs::metadata(&ws.input).expect("input exists").len();
    assert!(size > 2 << 20, "the input spans three 1 MiB splits ({size} bytes)");
    assert_eq!(run_to_file(&ws, 4, "batch"), ws.final_counts());
}

/// An input directory: all its files are counted, names starting with `.` or `_` skipped.
#[test]
fn batch_counts_every_file_of_an_input_directory() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (a, b) = (sample(150), "Zebra, über ZEBRA\n\nstraße");
    std::fs::write(dir.path().join("part-1.txt"), &a).expect("write");
    std::fs::write(dir.path().join("part-2.txt"), b).expect("write");
    std::fs::write(dir.path().join(".hidden"), "hidden hidden").expect("write");
    std::fs::write(dir.path().join("_SUCCESS"), "success").expect("write");
    let output = utf8(&dir.path().join("counts"));
    brook([
        "run",
        "--local",
        "-p",
        "2",
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "wordcount",
        "--input",
        &utf8(dir.path()),
        "--output",
        &output,
        "--execution-mode",
        "batch",
    ])
    .assert_success();
    let counts = word_counts(&format!("{a}\n{b}"));
    assert_eq!(file_lines(&output), sorted(counts.iter().map(|(w, n)| format!("{w},{n}"))));
}

/// `-p` given among the job's own arguments sets the job's parallelism.
#[test]
fn parallelism_among_the_job_arguments_is_honoured() {
    let ws = Workspace::new();
    let run = brook([
        "run",
        "--local",
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "wordcount",
        "-p",
        "2",
        "--input",
        &ws.input,
        "--execution-mode",
        "batch",
    ]);
    run.assert_success();
    // Printing at parallelism 2 prefixes each line with its subtask.
    let expected = sorted(ws.counts.iter().map(|(w, n)| format!("({w},{n})")));
    assert_eq!(strip_subtask_prefixes(&run.stdout, 2), expected);

    let output = brook([
        "run",
        "--local",
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "wordcount",
        "-p",
        "2",
        "--input",
        &ws.input,
        "--output",
        &ws.output,
        "--execution-mode",
        "batch",
    ]);
    output.assert_success();
    assert_eq!(file_lines(&ws.output), ws.final_counts());
}

/// Removes Flink's `N> ` subtask prefix from each line, checking 1 ≤ N ≤ `parallelism`.
fn strip_subtask_prefixes(stdout: &str, parallelism: usize) -> Vec<String> {
    sorted(stdout.lines().map(|line| {
        let (subtask, rest) = line.split_once("> ").unwrap_or_else(|| panic!("no subtask prefix on {line:?}"));
        let subtask: usize = subtask.parse().unwrap_or_else(|_| panic!("bad subtask prefix on {line:?}"));
        assert!((1..=parallelism).contains(&subtask), "subtask {subtask} out of range on {line:?}");
        rest.to_string()
    }))
}

/// Without `--output` the counts are printed as Flink prints tuples, `(word,count)`.
#[test]
fn printing_at_parallelism_1_writes_tuples_without_prefix() {
    let ws = Workspace::new();
    let run = brook(["run", "--local", "-p", "1", "wordcount", "--input", &ws.input, "--execution-mode", "batch"]);
    run.assert_success();
    let expected = sorted(ws.counts.iter().map(|(w, n)| format!("({w},{n})")));
    assert_eq!(sorted(run.stdout.lines().map(str::to_string)), expected);
}

/// At parallelism 2 each printed line starts with its subtask, `1> ` or `2> `,
/// and both subtasks print some words.
#[test]
fn printing_at_parallelism_2_prefixes_each_line_with_its_subtask() {
    let ws = Workspace::new();
    let run = brook([
        "run",
        "--local",
        "-p",
        "2",
        "-D",
        "taskmanager.numberOfTaskSlots=2",
        "wordcount",
        "--input",
        &ws.input,
        "--execution-mode",
        "batch",
    ]);
    run.assert_success();
    for line in run.stdout.lines() {
        assert!(line.starts_with("1> (") || line.starts_with("2> ("), "unexpected line {line:?}");
    }
    assert!(run.stdout.lines().any(|l| l.starts_with("1> ")) && run.stdout.lines().any(|l| l.starts_with("2> ")));
    let expected = sorted(ws.counts.iter().map(|(w, n)| format!("({w},{n})")));
    assert_eq!(strip_subtask_prefixes(&run.stdout, 2), expected);
}

/// The README's first command: the built-in text (Hamlet's soliloquy), counted exactly.
#[test]
fn default_text_is_counted_exactly() {
    let hamlet =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/hamlet.txt")).expect("the shipped text");
    let counts = word_counts(&hamlet);
    let run = brook(["run", "--local", "wordcount", "--execution-mode", "batch"]);
    run.assert_success();
    let to = counts["to"];
    assert!(run.stdout.lines().any(|l| l == format!("(to,{to})")), "(to,{to}) missing from:\n{}", run.stdout);
    let expected = sorted(counts.iter().map(|(w, n)| format!("({w},{n})")));
    assert_eq!(sorted(run.stdout.lines().map(str::to_string)), expected);
    // `brook run` reports the job's progress on stderr, as `bin/flink run` does.
    assert!(run.stderr.starts_with("Job has been submitted with JobID "), "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("\nProgram execution finished\n"), "stderr:\n{}", run.stderr);
}
