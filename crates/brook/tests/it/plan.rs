//! `brook info` (the execution plan as JSON), help texts and `--version`.

use crate::cli::brook;
use crate::wordcount::utf8;
use serde_json::Value;

/// The plan's JobGraph vertices.
fn vertices(plan: &Value) -> &Vec<Value> {
    plan["vertices"].as_array().expect("the plan has a `vertices` array")
}

fn operator_names(vertex: &Value) -> Vec<&str> {
    vertex["operators"]
        .as_array()
        .expect("a vertex lists its operators")
        .iter()
        .map(|o| o["name"].as_str().expect("operators have names"))
        .collect()
}

pub fn plan_of<'a>(args: impl IntoIterator<Item = &'a str>) -> Value {
    let run = brook(["info"].into_iter().chain(args));
    run.assert_success();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("`brook info` prints JSON ({e}):\n{}", run.stdout))
}

/// Source and Tokenizer are chained into one vertex, which ships to the
/// Counter vertex by key hash; every vertex runs at the requested parallelism.
#[test]
fn info_shows_the_chained_job_graph() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = utf8(&dir.path().join("in.txt"));
    std::fs::write(&input, "a b c\n").expect("write");
    let plan = plan_of(["wordcount", "--input", &input, "-p", "2"]);
    let vertices = vertices(&plan);
    assert_eq!(vertices.len(), 2, "{plan:#}");

    let source = &vertices[0];
    assert_eq!(operator_names(source), ["Source: File Source", "Tokenizer"], "{plan:#}");
    assert_eq!(source["name"], "Source: File Source -> Tokenizer");
    assert_eq!(source["inputs"].as_array().map(Vec::len), Some(0));

    let counter = &vertices[1];
    assert_eq!(operator_names(counter)[0], "Counter", "{plan:#}");
    let inputs = counter["inputs"].as_array().expect("the counter has inputs");
    assert_eq!(inputs.len(), 1, "{plan:#}");
    assert_eq!(inputs[0]["ship_strategy"], "HASH");
    assert_eq!(inputs[0]["id"], source["id"], "the counter reads from the source vertex");

    for v in vertices {
        assert_eq!(v["parallelism"], 2, "{plan:#}");
    }
}

/// Without `--input` the job reads its built-in text from a collection source;
/// with `--output` the CSV sink is a vertex of its own at parallelism 1.
#[test]
fn info_shows_the_collection_source_and_the_file_sink() {
    let plan = plan_of(["-p", "3", "wordcount", "--output", "/tmp/brook-plan-only.csv"]);
    let vertices = vertices(&plan);
    let names: Vec<Vec<&str>> = vertices.iter().map(operator_names).collect();
    assert_eq!(
        names,
        [vec!["Source: Collection Source"], vec!["Tokenizer"], vec!["Counter"], vec!["Sink: Word Counts"]]
    );
    let parallelism: Vec<&Value> = vertices.iter().map(|v| &v["parallelism"]).collect();
    assert_eq!(parallelism, [1, 3, 3, 1]);
    assert!(!std::path::Path::new("/tmp/brook-plan-only.csv").exists(), "info runs nothing");
}

#[test]
fn help_of_run_and_info_lists_the_builtin_jobs() {
    for command in ["run", "info"] {
        let run = brook([command, "--help"]);
        run.assert_success();
        assert!(run.stdout.contains("Built-in jobs:"), "{}", run.stdout);
        assert!(
            run.stdout.lines().any(|l| l.trim_start().starts_with("wordcount ")),
            "`brook {command} --help` lists wordcount:\n{}",
            run.stdout
        );
    }
}

#[test]
fn top_level_help_lists_the_commands() {
    let run = brook(["--help"]);
    run.assert_success();
    for command in ["run", "info", "config"] {
        assert!(run.stdout.lines().any(|l| l.trim_start().starts_with(command)), "{}", run.stdout);
    }
}

#[test]
fn version_is_the_crate_version() {
    let run = brook(["--version"]);
    run.assert_success();
    assert_eq!(run.stdout, format!("brook {}\n", env!("CARGO_PKG_VERSION")));
}
