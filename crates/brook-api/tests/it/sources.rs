//! Sources: collections, number sequences, text files and sockets.

use crate::support::{TagSubtask, collect, env, env_with_slots, sorted};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;

#[test]
fn from_collection_emits_the_elements_in_order_from_one_subtask() {
    // The environment's parallelism is 2, but a collection source is not parallel.
    let wide = env(2);
    wide.from_collection(vec![1i64]).discard();
    let plan: serde_json::Value = serde_json::from_str(&wide.get_execution_plan().unwrap()).unwrap();
    assert_eq!(
        (plan["nodes"][0]["parallelism"].as_u64(), plan["nodes"][1]["parallelism"].as_u64()),
        (Some(1), Some(2))
    );

    let env = env(1);
    let data: Vec<String> = (0..2500).map(|i| format!("e{i}")).collect();
    let out = collect(&env, env.from_collection(data.clone()));
    assert!(out == data, "{} records, first differences: {:?}", out.len(), out.iter().zip(&data).find(|(a, b)| a != b));
}

#[test]
fn from_collection_of_nothing_finishes_with_nothing() {
    let env = env(1);
    let stream = env.from_collection(Vec::<i64>::new()).map(|x: i64| x + 1);
    assert_eq!(collect(&env, stream), Vec::<i64>::new());
}

#[test]
fn from_iter_collects_the_iterator() {
    let env = env(1);
    let stream = env.from_iter((1..=4).map(|i| (i, i * i)));
    assert_eq!(collect(&env, stream), vec![(1, 1), (2, 4), (3, 9), (4, 16)]);
}

#[test]
fn from_collection_with_parallelism_above_one_is_rejected() {
    let env = env(1);
    env.from_collection(vec![1i64]).set_parallelism(2).discard();
    let err = env.execute("parallel collection").unwrap_err().to_string();
    assert!(err.contains("non-parallel source") && err.contains("Collection Source"), "{err}");
}

fn sequence(parallelism: usize, from: i64, to: i64) -> Vec<(usize, i64)> {
    let env = env_with_slots(3, parallelism);
    let stream = env.generate_sequence(from, to).process(TagSubtask);
    sorted(collect(&env, stream))
}

#[test]
fn generate_sequence_at_parallelism_one() {
    let out = sequence(1, 1, 1000);
    assert_eq!(out, (1..=1000).map(|v| (0, v)).collect::<Vec<_>>());
}

#[test]
fn generate_sequence_at_parallelism_three_splits_the_range_into_contiguous_parts() {
    let out = sequence(3, 1, 1000);
    // Subtask i reads from + total*i/n ..= from + total*(i+1)/n - 1.
    let owner = |v: i64| match v {
        1..=333 => 0,
        334..=666 => 1,
        _ => 2,
    };
    assert_eq!(out, (1..=1000).map(|v| (owner(v), v)).collect::<Vec<_>>());
}

#[test]
fn generate_sequence_handles_negative_and_empty_ranges() {
    assert_eq!(sequence(3, -2, 2).into_iter().map(|(_, v)| v).collect::<Vec<_>>(), vec![-2, -1, 0, 1, 2]);
    assert_eq!(sequence(2, 5, 4), vec![]);
    assert_eq!(sequence(3, 7, 7).into_iter().map(|(_, v)| v).collect::<Vec<_>>(), vec![7]);
    let top: Vec<i64> = sequence(2, i64::MAX - 4, i64::MAX).into_iter().map(|(_, v)| v).collect();
    assert_eq!(top, (i64::MAX - 4..=i64::MAX).collect::<Vec<_>>());
    let bottom: Vec<i64> = sequence(3, i64::MIN, i64::MIN + 2).into_iter().map(|(_, v)| v).collect();
    assert_eq!(bottom, vec![i64::MIN, i64::MIN + 1, i64::MIN + 2]);
}

fn read_lines(path: &Path, parallelism: usize) -> Vec<String> {
    let env = env_with_slots(4, parallelism);
    let stream = env.read_text_file(path);
    sorted(collect(&env, stream))
}

#[test]
fn read_text_file_reads_every_line_once_at_any_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("poem.txt");
    std::fs::write(&path, "first line\nsecond\n\nfourth after an empty one\r\nlast\n").unwrap();
    let expected = sorted(vec!["first line", "second", "", "fourth after an empty one", "last"]);
    for p in [1, 2, 4] {
        assert_eq!(read_lines(&path, p), expected, "parallelism {p}");
    }
}

#[test]
fn read_text_file_keeps_a_last_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-newline.txt");
    std::fs::write(&path, "alpha\nbeta\ngamma").unwrap();
    for p in [1, 2, 4] {
        assert_eq!(read_lines(&path, p), vec!["alpha", "beta", "gamma"], "parallelism {p}");
    }
}

#[test]
fn read_text_file_of_a_directory_reads_its_visible_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "a1\na2\n").unwrap();
    std::fs::write(dir.path().join("b.txt"), "b1\nb2\nb3").unwrap();
    // Hidden and underscore files are skipped, as in Flink.
    std::fs::write(dir.path().join(".hidden"), "nope\n").unwrap();
    std::fs::write(dir.path().join("_SUCCESS"), "nope\n").unwrap();
    for p in [1, 2, 4] {
        assert_eq!(read_lines(dir.path(), p), vec!["a1", "a2", "b1", "b2", "b3"], "parallelism {p}");
    }
}

#[test]
fn read_text_file_replaces_invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.txt");
    std::fs::write(&path, b"ok\ncaf\xe9\n").unwrap();
    assert_eq!(read_lines(&path, 1), vec!["caf\u{fffd}", "ok"]);
}

#[test]
fn read_text_file_of_an_empty_file_or_directory_yields_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let empty_file = dir.path().join("empty.txt");
    std::fs::write(&empty_file, "").unwrap();
    assert_eq!(read_lines(&empty_dir, 2), Vec::<String>::new());
    assert_eq!(read_lines(&empty_file, 2), Vec::<String>::new());
}

#[test]
fn read_text_file_splits_a_large_file_between_readers_without_losing_lines() {
    // Above 1 MiB a file is cut into byte ranges; lines crossing a cut are read once.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let lines: Vec<String> = (0..180_000).map(|i| format!("line {i:06} {}", "x".repeat(i % 13))).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 3 << 20);
    let env = env_with_slots(4, 4);
    let stream = env.read_text_file(&path).process(TagSubtask);
    let out = collect(&env, stream);
    let readers: std::collections::BTreeSet<usize> = out.iter().map(|(s, _)| *s).collect();
    assert_eq!(readers.len(), 4, "every reader gets a split");
    assert_eq!(sorted(out.into_iter().map(|(_, l)| l).collect()), sorted(lines));
}

#[test]
fn socket_text_stream_reads_lines_until_the_server_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"hello\nwor").unwrap();
        conn.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        conn.write_all(b"ld\r\n\nlast without newline").unwrap();
    });
    let env = env(1);
    let stream = env.socket_text_stream("127.0.0.1", port);
    let out = collect(&env, stream);
    server.join().unwrap();
    assert_eq!(out, vec!["hello", "world", "", "last without newline"]);
}

#[test]
fn socket_text_stream_keeps_the_order_of_many_lines() {
    let lines: Vec<String> = (0..20_000).map(|i| format!("{i}:{}", "y".repeat(i % 50))).collect();
    let text = lines.join("\n") + "\n";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        // Odd-sized writes, so lines are cut between reads.
        for chunk in text.as_bytes().chunks(4093) {
            conn.write_all(chunk).unwrap();
        }
    });
    let env = env(1);
    env.set_batch_size(100);
    let out = collect(&env, env.socket_text_stream("127.0.0.1", port));
    server.join().unwrap();
    assert!(out == lines, "{} lines instead of {}", out.len(), lines.len());
}
