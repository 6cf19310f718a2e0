//! What a user sees when something is wrong: a non-zero exit code and one
//! `error: ` line on stderr that says what happened and what to do — never a
//! panic trace.

use crate::cli::brook;
use crate::wordcount::utf8;

fn yaml_file(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, text).expect("writing the configuration file");
    utf8(&path)
}

#[test]
fn missing_input_file_names_the_path() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = utf8(&dir.path().join("no-such-input.txt"));
    let run = brook(["run", "--local", "wordcount", "--input", &missing]);
    let error = run.assert_only_error();
    assert!(error.contains(&missing), "{error}");
    assert!(error.contains("No such file or directory"), "{error}");
}

#[test]
fn unknown_job_lists_the_known_jobs() {
    let run = brook(["run", "--local", "wordcuont"]);
    let error = run.assert_only_error();
    assert_eq!(
        error,
        "error: unknown job 'wordcuont'; built-in jobs are: wordcount, fraud-detection, socket-window-wordcount, nexmark"
    );
}

#[test]
fn unknown_flag_before_the_job_is_a_usage_error() {
    let run = brook(["run", "--local", "--bogus", "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains("'--bogus'"), "{error}");
    assert!(error.contains("brook run --help"), "{error}");
    assert_eq!(run.code(), Some(2), "usage errors exit with 2");
}

#[test]
fn unknown_flag_of_the_job_is_a_usage_error() {
    let run = brook(["run", "--local", "wordcount", "--bogus"]);
    let error = run.assert_only_error();
    assert!(error.contains("'--bogus'"), "{error}");
    assert_eq!(run.code(), Some(2), "usage errors exit with 2");
}

#[test]
fn bad_value_of_a_job_flag_is_a_usage_error() {
    let run = brook(["run", "--local", "wordcount", "--execution-mode", "sometimes"]);
    let error = run.assert_only_error();
    assert!(error.contains("'sometimes'"), "{error}");
}

#[test]
fn unknown_configuration_key_suggests_the_right_one() {
    let run = brook(["run", "--local", "-D", "parallelism.defualt=2", "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains("'parallelism.defualt'"), "{error}");
    assert!(error.contains("did you mean 'parallelism.default'?"), "{error}");
}

#[test]
fn bad_configuration_value_names_key_and_value() {
    let run = brook(["run", "--local", "-D", "parallelism.default=two", "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains("'two'") && error.contains("'parallelism.default'"), "{error}");
}

#[test]
fn dynamic_property_without_equals_sign_is_an_error() {
    let run = brook(["run", "--local", "-D", "parallelism.default", "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains("parallelism.default"), "{error}");
}

#[test]
fn configuration_file_with_an_unknown_key_names_file_and_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = yaml_file(&dir, "taskmanager:\n  numberOfTaskSlotz: 4\n");
    let run = brook(["run", "--local", "--config", &file, "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains(&file), "{error}");
    assert!(error.contains("'taskmanager.numberOfTaskSlotz'"), "{error}");
    assert!(error.contains("did you mean 'taskmanager.numberOfTaskSlots'?"), "{error}");
}

#[test]
fn configuration_file_that_is_not_yaml_names_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = yaml_file(&dir, "parallelism.default: [2\n  : :\n");
    let run = brook(["run", "--local", "--config", &file, "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains(&file) && error.contains("YAML"), "{error}");
}

#[test]
fn missing_configuration_file_names_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = utf8(&dir.path().join("missing.yaml"));
    let run = brook(["run", "--local", "--config", &file, "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains(&file), "{error}");
}

#[test]
fn zero_parallelism_is_rejected() {
    let run = brook(["run", "--local", "-p", "0", "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains("-p"), "{error}");
}

/// The job is submitted, then fails for lack of slots: stderr has the
/// submission line and then the error, naming what was needed and what exists.
#[test]
fn more_parallelism_than_slots_names_both_numbers() {
    let run = brook(["run", "--local", "-p", "8", "-D", "taskmanager.numberOfTaskSlots=2", "wordcount"]);
    let error = run.assert_error();
    assert!(error.contains("needs 8 slots") && error.contains("has 2"), "{error}");
    assert!(error.contains("taskmanager.numberOfTaskSlots"), "says what to change: {error}");
}

#[test]
fn more_parallelism_than_slots_from_the_job_arguments() {
    let run = brook(["run", "--local", "-D", "taskmanager.numberOfTaskSlots=2", "wordcount", "-p", "8"]);
    let error = run.assert_error();
    assert!(error.contains("needs 8 slots") && error.contains("has 2"), "{error}");
}

#[test]
fn info_reports_errors_the_same_way() {
    let run = brook(["info", "-D", "no.such.key=1", "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.contains("'no.such.key'"), "{error}");
}

/// The job list says "Run `brook run --local <job> --help` for a job's own
/// options"; that command should print the job's options (`--input`, `--output`,
/// `--execution-mode`), not `brook run`'s.
#[test]
fn job_help_lists_the_job_options() {
    let run = brook(["run", "--local", "wordcount", "--help"]);
    run.assert_success();
    assert!(run.stdout.contains("--input") && run.stdout.contains("--execution-mode"), "{}", run.stdout);
}

/// A job that fails while running (its output directory is a file) reports the
/// cause once, as the last line; the log line the task failure produces at the
/// default level (`warn`) repeats it, with ANSI colour codes although stderr is
/// not a terminal.
#[test]
fn job_failing_at_runtime_reports_one_error_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = utf8(&dir.path().join("in.txt"));
    std::fs::write(&input, "a b a\n").expect("write");
    let run = brook(["run", "--local", "wordcount", "--input", &input, "--output", &input]);
    let error = run.assert_error();
    assert!(error.contains("cannot create output directory") && error.contains(&input), "{error}");
    assert!(!run.stderr.contains('\u{1b}'), "no ANSI escapes when stderr is not a terminal");
}

/// A missing required argument should be named in the one-line error.
#[test]
fn missing_job_name_is_named_in_the_error() {
    let run = brook(["run", "--local"]);
    let error = run.assert_only_error();
    assert!(error.contains("<JOB>"), "{error}");
    assert_eq!(run.code(), Some(2), "usage errors exit with 2");
}
