//! The built-in `socket-window-wordcount` job against a real TCP server.

use crate::cli::brook;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn counts_words_per_window_from_a_socket() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"to be or not to be\nthat is   the question\nto be\n").unwrap();
        // Keep the connection open past the end of the 1-second window the lines
        // fall into (processing-time windows do not fire at end of input).
        std::thread::sleep(Duration::from_millis(2500));
    });
    let run = brook([
        "run",
        "--local",
        "socket-window-wordcount",
        "--hostname",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--window-seconds",
        "1",
    ]);
    run.assert_success();
    server.join().unwrap();
    // The lines arrive within a millisecond, so nearly always in one window; summing
    // per word keeps the check exact even when they straddle a window boundary.
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for line in run.stdout.lines() {
        let (word, count) = line.split_once(" : ").unwrap_or_else(|| panic!("`word : count` expected, got {line:?}"));
        *totals.entry(word.to_string()).or_default() += count.parse::<i64>().unwrap();
    }
    let expected: BTreeMap<String, i64> =
        [("to", 3), ("be", 3), ("or", 1), ("not", 1), ("that", 1), ("is", 1), ("the", 1), ("question", 1)]
            .into_iter()
            .map(|(w, c)| (w.to_string(), c))
            .collect();
    assert_eq!(totals, expected, "stdout:\n{}", run.stdout);
}

#[test]
fn an_unreachable_server_is_a_one_line_error() {
    // A port nothing listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run =
        brook(["run", "--local", "socket-window-wordcount", "--hostname", "127.0.0.1", "--port", &port.to_string()]);
    let error = run.assert_error();
    assert!(error.contains(&format!("cannot connect to 127.0.0.1:{port} (socket source)")), "{error}");
    assert!(error.contains("check that the server is running"), "{error}");
}
