//! Configuration files and the generated configuration reference.

use crate::cli::brook;
use crate::plan::plan_of;
use crate::text::{sample, word_counts};
use crate::wordcount::utf8;

const NESTED_CONFIG: &str = "taskmanager:\n  numberOfTaskSlots: 4\nparallelism.default: 4\n";

/// Nested (`taskmanager:` / `numberOfTaskSlots:`) and flat keys in one file.
#[test]
fn yaml_file_with_nested_keys_sets_slots_and_parallelism() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = utf8(&dir.path().join("config.yaml"));
    std::fs::write(&config, NESTED_CONFIG).expect("write");
    let text = sample(200);
    let input = utf8(&dir.path().join("input.txt"));
    std::fs::write(&input, &text).expect("write");

    let plan = plan_of(["--config", &config, "wordcount", "--input", &input]);
    for v in plan["vertices"].as_array().expect("vertices") {
        assert_eq!(v["parallelism"], 4, "{plan:#}");
    }

    // Parallelism 4 needs the 4 slots the same file grants; print prefixes prove p = 4.
    let run =
        brook(["run", "--local", "--config", &config, "wordcount", "--input", &input, "--execution-mode", "batch"]);
    run.assert_success();
    let mut printed: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            let (subtask, rest) = l.split_once("> ").unwrap_or_else(|| panic!("no subtask prefix on {l:?}"));
            assert!(["1", "2", "3", "4"].contains(&subtask), "{l:?}");
            rest.to_string()
        })
        .collect();
    printed.sort();
    let mut expected: Vec<String> = word_counts(&text).iter().map(|(w, n)| format!("({w},{n})")).collect();
    expected.sort();
    assert_eq!(printed, expected);
}

/// `BROOK_CONF_DIR/config.yaml` is read when no `--config` is given.
#[test]
fn conf_dir_config_is_read_by_default() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("config.yaml"), "parallelism.default: 3\n").expect("write");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["info", "wordcount"])
        .env("BROOK_CONF_DIR", dir.path())
        .output()
        .expect("brook runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    // The collection source is not parallel; the operators after it take the default.
    let parallelism: Vec<&serde_json::Value> =
        plan["vertices"].as_array().expect("vertices").iter().map(|v| &v["parallelism"]).collect();
    assert_eq!(parallelism[1..], [3, 3]);
}

/// `-D` overrides the file, `-p` overrides both.
#[test]
fn dynamic_properties_override_the_file_and_p_overrides_both() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = utf8(&dir.path().join("config.yaml"));
    std::fs::write(&config, NESTED_CONFIG).expect("write");
    let parallelism_of = |plan: serde_json::Value| plan["vertices"][1]["parallelism"].clone();
    assert_eq!(parallelism_of(plan_of(["--config", &config, "-D", "parallelism.default=2", "wordcount"])), 2);
    assert_eq!(
        parallelism_of(plan_of(["--config", &config, "-D", "parallelism.default=2", "-p", "3", "wordcount"])),
        3
    );
}

/// The checked-in reference is what `brook config docs` generates.
#[test]
fn config_docs_matches_docs_configuration_md() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
    let checked_in = std::fs::read_to_string(path).expect("docs/configuration.md exists");
    let run = brook(["config", "docs"]);
    run.assert_success();
    assert!(run.stdout == checked_in, "docs/configuration.md is stale; regenerate it with `brook config docs`");
}
