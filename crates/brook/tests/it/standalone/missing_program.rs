//! A TaskManager that does not carry a job's program: the JobManager offers the job
//! only the slots of TaskManagers that do, and says which it left out and why.
//!
//! The other TaskManager is a user's own binary in miniature: a TaskManager process
//! (the library's `TaskManagerProcess`, as `brook::cli::main_with_programs` runs it)
//! whose catalog carries one program of its own, registered over gRPC at a real
//! `brook jobmanager`.

use super::{JobManager, committed, local_output, write_input};
use crate::cli::brook;
use brook_cluster::rpc::{HeartbeatSettings, TaskManagerProcess, TaskManagerProcessConfig};
use brook_cluster::taskmanager::TaskManager;
use brook_cluster::{ProgramCatalog, ProgramInfo, ProgramSpec};
use brook_runtime::graph::StreamGraph;
use brook_runtime::task::LocalShuffle;
use brook_types::TaskManagerId;
use brook_types::config::Configuration;
use std::sync::Arc;
use std::time::Duration;

/// Carries one program, `inventory`, and no built-in one.
struct OwnPrograms;

impl ProgramCatalog for OwnPrograms {
    fn programs(&self) -> Vec<ProgramInfo> {
        vec![ProgramInfo { name: "inventory".into(), description: "a user's program".into() }]
    }

    fn build(&self, spec: &ProgramSpec, _config: &Configuration) -> brook_types::Result<StreamGraph> {
        Err(brook_types::BrookError::InvalidProgram(format!("this test never runs '{}'", spec.program)))
    }
}

/// Starts the TaskManager in a thread of this test; it ends with the test process.
fn start_own_task_manager(jm: &JobManager) -> TaskManagerId {
    let id = TaskManagerId::generate();
    let config = TaskManagerProcessConfig {
        id,
        job_manager_address: jm.rpc.clone(),
        slots: 4,
        data_address: String::new(),
        heartbeats: HeartbeatSettings { interval: Duration::from_secs(1), timeout: Duration::from_secs(5) },
        registration_timeout: Duration::from_secs(60),
    };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let task_manager = Arc::new(TaskManager::new(id, 4, LocalShuffle::new(), runtime.handle().clone()));
        let _ = runtime.block_on(TaskManagerProcess::new(config, Arc::new(OwnPrograms), task_manager).run());
    });
    id
}

#[test]
fn a_task_manager_without_the_jobs_program_is_not_offered_and_the_error_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 50);
    let jm = JobManager::start();
    let _builtin = jm.start_task_manager(1);
    let own = start_own_task_manager(&jm);
    jm.wait_for_task_managers(2);

    // Five slots registered, but only the `brook taskmanager`'s one carries wordcount.
    let output = dir.path().join("out");
    let run = |p: &str| {
        brook(
            ["run", "-m", &jm.rest, "-p", p, "wordcount", "--input", input.to_str().unwrap(), "--output"]
                .into_iter()
                .map(String::from)
                .chain([output.to_str().unwrap().to_string()])
                .collect::<Vec<_>>(),
        )
    };
    let refused = run("2");
    let error = refused.assert_only_error();
    assert!(error.starts_with(&format!("error: the REST API at {} answered ", jm.rest)), "{error}");
    let (head, tail) =
        error.split_once(&format!("not offered: TaskManager {own} at 127.0.0.1:")).unwrap_or_else(|| panic!("{error}"));
    assert!(
        head.ends_with(
            "Could not run program 'wordcount': not enough task slots: the job needs 2 slots (slot sharing group \
             'default' needs 2; "
        ),
        "{error}"
    );
    assert!(
        tail.ends_with(
            " (they do not carry program 'wordcount')) but the cluster has 1; lower the parallelism (-p) or raise \
             taskmanager.numberOfTaskSlots"
        ),
        "{error}"
    );

    // Nothing crashed: the JobManager still serves, both TaskManagers are registered,
    // and a job that fits runs on the TaskManager that carries it.
    let overview: serde_json::Value = serde_json::from_str(&jm.get("/overview")).unwrap();
    assert_eq!((overview["taskmanagers"].as_u64(), overview["slots-total"].as_u64()), (Some(2), Some(5)));
    run("1").assert_success();
    assert_eq!(committed(&output), local_output(&input, &dir.path().join("local"), 1));
}
