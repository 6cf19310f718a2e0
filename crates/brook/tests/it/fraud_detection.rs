//! The built-in `fraud-detection` job: hand-checked alerts over a small ledger.

use crate::cli::brook;

/// In arrival order, roughly increasing in event time (two swaps within a second).
const LEDGER: &str = "\
a,1000,0.50
a,3000,700.00
a,2500,10.00
b,10000,0.99
c,20000,0.01
d,30000,0.20
d,30000,800.00
e,40000,0.30
e,41000,500.00
f,50000,0.99
f,51000,1.00
f,52000,999.99
g,60000,0.50
g,61000,0.40
g,62000,600.00
b,70000,501.00
c,80001,900.00
h,90000,750.00
h,89000,0.75
";

/// Why each line is, or is not, an alert:
/// - a@3000 700.00: in event time its previous transaction is a@2500 10.00 (arrived
///   later, but 500 ms earlier in event time), which is not under 1.00 → no alert.
/// - b@70000 501.00: previous b@10000 0.99, exactly 60 s earlier → alert.
/// - c@80001 900.00: previous c@20000 0.01, 60.001 s earlier → no alert.
/// - d@30000 800.00: previous d@30000 0.20 (same time, arrived first) → alert.
/// - e@41000 500.00: not over 500.00 → no alert.
/// - f@52000 999.99: previous f@51000 1.00 is not under 1.00 → no alert.
/// - g@62000 600.00: previous g@61000 0.40 → alert.
/// - h@90000 750.00: in event time its previous is h@89000 0.75 → alert.
const ALERTS: [&str; 4] = ["b,70000,501.00", "d,30000,800.00", "g,62000,600.00", "h,90000,750.00"];

#[test]
fn fraud_detection_flags_exactly_the_hand_checked_transactions() {
    for p in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("ledger.csv");
        let output = dir.path().join("alerts.csv");
        std::fs::write(&input, LEDGER).unwrap();
        brook([
            "run",
            "--local",
            "-p",
            p,
            "fraud-detection",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ])
        .assert_success();
        let mut alerts: Vec<String> = std::fs::read_to_string(&output).unwrap().lines().map(str::to_string).collect();
        alerts.sort();
        assert_eq!(alerts, ALERTS, "p={p}");
    }
}

/// Line 3 has a bad timestamp and line 5 too few fields; line 4 is blank.
const LEDGER_WITH_BAD_LINES: &str = "a,1000,0.50\nb,2000,0.10\na,soon,700.00\n\nb,2500\nb,2600,900.00\n";

#[test]
fn malformed_lines_are_skipped_reported_and_counted_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ledger.csv");
    std::fs::write(&input, LEDGER_WITH_BAD_LINES).unwrap();
    let output = dir.path().join("alerts.csv");
    let run = brook([
        "run",
        "--local",
        "-p",
        "2",
        "fraud-detection",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    run.assert_success();
    // b@2600 900.00 follows b@2000 0.10 (the bad line b,2500 is skipped, not a transaction).
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "b,2600,900.00\n");
    let mut skipped: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("fraud-detection: skipped")).collect();
    skipped.sort();
    assert_eq!(
        skipped,
        vec![
            "fraud-detection: skipped line 3: timestamp 'soon' is not an integer: 'a,soon,700.00'",
            "fraud-detection: skipped line 5: expected 3 fields 'account_id,timestamp_ms,amount', got 2: 'b,2500'",
        ]
    );
    assert!(run.stderr.lines().any(|l| l == "- malformed-lines: 2"), "the count is reported: {}", run.stderr);
}

#[test]
fn on_error_fail_fails_the_job_at_the_first_malformed_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ledger.csv");
    std::fs::write(&input, LEDGER_WITH_BAD_LINES).unwrap();
    let out = dir.path().join("alerts.csv");
    let run = brook([
        "run",
        "--local",
        "fraud-detection",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--on-error",
        "fail",
    ]);
    let error = run.assert_error();
    assert!(error.contains("line 3 of the input: timestamp 'soon' is not an integer: 'a,soon,700.00'"), "{error}");
    assert!(error.contains("Parse Transactions"), "names the operator: {error}");
}
