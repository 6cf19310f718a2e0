//! `brook run nexmark`: the built-in job over the generator.

use crate::cli::brook;

/// Every block of 50 consecutive event ids holds 46 bids, so 5,000 generated
/// events are 4,600 bids: q0 writes one line each, at any parallelism.
#[test]
fn brook_run_nexmark_q0_writes_one_line_per_generated_bid() {
    for p in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("q0.csv");
        let out = output.to_str().unwrap();
        brook(["run", "--local", "-p", p, "nexmark", "--query", "q0", "--events", "5000", "--output", out])
            .assert_success();
        let lines = std::fs::read_to_string(&output).unwrap();
        assert_eq!(lines.lines().count(), 4600, "p={p}");
        assert!(lines.lines().all(|l| l.split(',').count() >= 5), "p={p}");
    }
}

/// Each source subtask runs one generator split: at parallelism p the rows are
/// q0 over the events of p sub-generators.
#[test]
fn brook_run_nexmark_generates_one_split_per_subtask() {
    use brook_connectors::nexmark::{Event, NexmarkConfig, merged_events};
    for p in [1u32, 2] {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("q0.csv");
        let out = output.to_str().unwrap();
        let par = p.to_string();
        brook(["run", "--local", "-p", &par, "nexmark", "--query", "q0", "--events", "2000", "--output", out])
            .assert_success();
        let mut got: Vec<String> = std::fs::read_to_string(&output).unwrap().lines().map(str::to_owned).collect();
        got.sort();
        let config = NexmarkConfig { events_num: 2000, ..NexmarkConfig::default() };
        let mut want: Vec<String> = merged_events(&config, p)
            .filter_map(|e| match e {
                Event::Bid(b) => Some(format!("{},{},{},{},{}", b.auction, b.bidder, b.price, b.date_time, b.extra)),
                _ => None,
            })
            .collect();
        want.sort();
        assert_eq!(got.len(), 1840, "p={p}");
        assert!(got == want, "p={p}: the rows are not q0 over {p} sub-generators");
    }
}

#[test]
fn brook_run_nexmark_rejects_an_unknown_query_listing_the_known_ones() {
    let out = brook(["run", "--local", "nexmark", "--query", "q23"]);
    assert_eq!(
        out.assert_only_error(),
        "error: unknown Nexmark query 'q23'; known queries are: q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, \
         q12, q13, q14, q15, q16, q17, q18, q19, q20, q21, q22"
    );
}
