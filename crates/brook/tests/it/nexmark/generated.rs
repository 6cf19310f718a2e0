//! Every event-time query over 20,000 generated events (one generator split,
//! so events arrive in order and nothing is late) gives the same result at
//! parallelism 1 and 2: the same rows for insert-only queries, the same final
//! table for updating ones, and every query has rows. q12 (processing time)
//! is left out.

use super::*;
use brook::jobs::nexmark::QUERIES;
use brook_connectors::nexmark::{self, NexmarkConfig};

const UPDATING: [&str; 7] = ["q4", "q9", "q15", "q16", "q17", "q18", "q19"];

fn run_generated(query: &str, parallelism: usize) -> Vec<String> {
    let env = environment(parallelism);
    let config = NexmarkConfig { events_num: 20_000, seed: 1, splits: 1, ..NexmarkConfig::default() };
    let handle = CollectHandle::new();
    build_query(&env, query, nexmark::source(&env, &config), QuerySink::Collect(handle.clone())).unwrap();
    env.execute(&format!("nexmark {query} generated")).unwrap();
    let lines = handle.take();
    if UPDATING.contains(&query) { materialize(&lines) } else { sorted(lines) }
}

#[test]
fn generated_events_give_the_same_results_at_parallelism_1_and_2() {
    let mut sizes = Vec::new();
    for &query in QUERIES.iter().filter(|&&q| q != "q12") {
        let one = run_generated(query, 1);
        let two = run_generated(query, 2);
        assert!(!one.is_empty(), "{query}: no rows from 20,000 events");
        assert_eq!(one.len(), two.len(), "{query}: rows at parallelism 1 and 2");
        assert!(one == two, "{query}: different results at parallelism 1 and 2");
        sizes.push(format!("{query}:{}", one.len()));
    }
    println!("{}", sizes.join(" "));
}

/// The benchmark's queries over an export, read as the benchmark reads it (only
/// the query's files and text columns), give exactly the rows of the same
/// events generated.
#[test]
fn queries_over_an_export_read_only_their_columns_and_give_the_generated_rows() {
    let config = NexmarkConfig { events_num: 20_000, seed: 1, splits: 1, ..NexmarkConfig::default() };
    let dir = tempfile::tempdir().unwrap();
    nexmark::export(&config, 1, nexmark::ExportFormat::Csv, dir.path()).unwrap();
    for query in ["q0", "q1", "q2", "q5", "q7", "q8"] {
        let run = |exported: bool| {
            let env = environment(1);
            let events = if exported {
                brook::jobs::nexmark::read_exported_for(&env, dir.path(), query).unwrap()
            } else {
                nexmark::source(&env, &config)
            };
            let handle = CollectHandle::new();
            build_query(&env, query, events, QuerySink::Collect(handle.clone())).unwrap();
            env.execute(&format!("nexmark {query} exported={exported}")).unwrap();
            sorted(handle.take())
        };
        let generated = run(false);
        assert!(!generated.is_empty(), "{query}: no rows from 20,000 events");
        assert!(run(true) == generated, "{query}: rows over the export differ from the generated ones");
    }
}
