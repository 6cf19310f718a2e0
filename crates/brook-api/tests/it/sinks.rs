//! Sinks: collect, execute_and_collect, text and CSV files, discard.
//! (`print` writes to the process's stdout; the CLI tests check it.)

use crate::support::{env, run, sorted};
use std::path::Path;

#[test]
fn collect_handle_holds_the_records_after_the_job() {
    let env = env(1);
    let handle = env.from_collection(vec![3i64, 1, 2]).map(|x: i64| x * 2).collect();
    assert!(handle.is_empty(), "nothing runs before execute");
    run(&env, "collect").unwrap();
    assert_eq!(handle.len(), 3);
    assert_eq!(handle.take(), vec![6, 2, 4]);
    assert!(handle.is_empty(), "take empties the handle");
}

#[test]
fn two_collect_sinks_on_one_stream_each_get_every_record() {
    let env = env(2);
    let doubled = env.generate_sequence(1, 50).map(|x: i64| x * 2);
    let first = doubled.clone().collect();
    let second = doubled.filter(|x: &i64| *x > 90).collect();
    run(&env, "two sinks").unwrap();
    assert_eq!(sorted(first.take()), (1..=50).map(|x| x * 2).collect::<Vec<_>>());
    assert_eq!(sorted(second.take()), vec![92, 94, 96, 98, 100]);
}

#[test]
fn execute_and_collect_returns_the_streams_records() {
    let env = env(2);
    let out = env.generate_sequence(1, 20).filter(|x: &i64| x % 5 == 0).execute_and_collect("collect").unwrap();
    assert_eq!(sorted(out), vec![5, 10, 15, 20]);
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

/// The names in a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    sorted(std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
}

#[test]
fn write_as_text_at_parallelism_one_writes_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("out.txt");
    let env = env(1);
    env.from_collection(vec![("a".to_string(), 1i64), ("b".to_string(), 22)]).write_as_text(&path);
    env.from_collection(vec![1.5f64, -0.25]).write_as_text(dir.path().join("floats.txt"));
    run(&env, "text").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "(a,1)\n(b,22)\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("floats.txt")).unwrap(), "1.5\n-0.25\n");
}

#[test]
fn write_as_csv_at_parallelism_one_writes_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let env = env(1);
    env.from_collection(vec![("a".to_string(), 1i64, true), ("b".to_string(), -2, false)]).write_as_csv(&path);
    run(&env, "csv").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,1,true\nb,-2,false\n");
}

#[test]
fn write_as_text_at_parallelism_two_writes_a_directory_of_files_1_and_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let env = env(2);
    env.generate_sequence(1, 100).map(|x: i64| format!("line {x}")).write_as_text(&path);
    run(&env, "text p2").unwrap();
    assert_eq!(entries(&path), vec!["1", "2"]);
    // Subtask 0 of the chained source reads 1..=50 and writes file 1.
    assert_eq!(lines_of(&path.join("1")), (1..=50).map(|x| format!("line {x}")).collect::<Vec<_>>());
    assert_eq!(lines_of(&path.join("2")), (51..=100).map(|x| format!("line {x}")).collect::<Vec<_>>());
}

#[test]
fn write_as_csv_at_parallelism_two_writes_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("csv");
    let env = env(2);
    env.from_collection((0..40i64).map(|i| (format!("k{}", i % 4), i)).collect()).rebalance().write_as_csv(&path);
    run(&env, "csv p2").unwrap();
    assert_eq!(entries(&path), vec!["1", "2"]);
    let (one, two) = (lines_of(&path.join("1")), lines_of(&path.join("2")));
    assert_eq!((one.len(), two.len()), (20, 20), "rebalance deals the records evenly");
    let all = sorted(one.into_iter().chain(two).collect());
    assert_eq!(all, sorted((0..40).map(|i| format!("k{},{i}", i % 4)).collect()));
}

#[test]
fn discard_consumes_every_record() {
    let env = env(2);
    env.generate_sequence(1, 12_345).map(|x: i64| x + 1).discard();
    env.generate_sequence(1, 10).discard().name("Blackhole");
    let result = run(&env, "discard").unwrap();
    assert_eq!(result.operator_records["Sink: Discard"], (12_345, 0));
    assert_eq!(result.operator_records["Blackhole"].0, 10);
    assert_eq!(result.operator_records["Map"], (12_345, 12_345));
}
