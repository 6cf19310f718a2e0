//! A job deployed over two TaskManagers, each with its own data plane, connected by
//! real loopback TCP: the same output as in one process.

use crate::support;
use brook_network::{NetworkConfig, NetworkEnvironment};
use brook_runtime::graph::{DataPlaneLocation, JobGraph, StreamGraph};
use brook_runtime::metrics::MetricRegistry;
use brook_runtime::task::{DeployedTask, LocalShuffle, TaskOutcome};
use brook_types::{JobId, TaskManagerId};
use std::sync::Arc;

/// Deploys every subtask of `graph` as the MiniCluster does, with subtask `i` of every
/// vertex on TaskManager `i % 2`; channels between the two go over the network.
/// Returns each task's outcome.
fn run_on_two_task_managers(graph: StreamGraph) -> Vec<(String, TaskOutcome)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut networks = Vec::new();
        for _ in 0..2 {
            networks.push(Arc::new(NetworkEnvironment::start(NetworkConfig::default()).await.unwrap()));
        }
        let shuffles = [LocalShuffle::new(), LocalShuffle::new()];
        let task_managers = [TaskManagerId::generate(), TaskManagerId::generate()];
        let graph = Arc::new(graph);
        let job = Arc::new(JobGraph::from_stream_graph(&graph, JobId::generate()));
        let mut deployed = Vec::new();
        for vertex in &job.vertices {
            for subtask in 0..vertex.parallelism {
                let here = subtask % 2;
                let mut descriptor = job.deployment_descriptor(vertex.id, subtask, 0);
                for target in descriptor.outputs.iter_mut().flat_map(|o| o.targets.iter_mut()) {
                    let there = target.subtask % 2;
                    if there != here {
                        target.location = Some(DataPlaneLocation {
                            task_manager: task_managers[there],
                            address: networks[there].address().to_string(),
                        });
                    }
                }
                let task = DeployedTask::deploy_with_network(
                    graph.clone(),
                    job.clone(),
                    descriptor,
                    &shuffles[here],
                    Some(networks[here].clone()),
                    MetricRegistry::default(),
                )
                .unwrap();
                deployed.push((here, task));
            }
        }
        let mut running = Vec::new();
        for (here, task) in deployed {
            let shuffle = shuffles[here].clone();
            running.push(tokio::spawn(async move {
                let task = task.connect(&shuffle).await.unwrap();
                let name = task.name.clone();
                let (_mailbox_tx, mut mailbox) = tokio::sync::mpsc::unbounded_channel();
                (name, task.run(&mut mailbox).await)
            }));
        }
        let mut outcomes = Vec::new();
        for r in running {
            outcomes.push(tokio::time::timeout(support::JOB_DEADLINE, r).await.expect("the job ends").unwrap());
        }
        outcomes
    })
}

const N: i64 = 50_000;

fn program(env: &brook_api::StreamExecutionEnvironment) -> brook_api::DataStream<(i64, String)> {
    env.generate_sequence(1, N).rebalance().map(|x| (x * 3, format!("r{x}")))
}

#[test]
fn a_job_split_over_two_task_managers_gives_the_output_of_one_process() {
    let env = support::env(2);
    env.set_batch_size(100);
    let handle = program(&env).collect();
    let outcomes = run_on_two_task_managers(env.take_stream_graph("over the network").unwrap());
    let mut outcomes: Vec<String> = outcomes.into_iter().map(|(name, o)| format!("{name}: {o:?}")).collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            "Map -> Sink: Collect (1/2): Finished",
            "Map -> Sink: Collect (2/2): Finished",
            "Source: Sequence (1/2): Finished",
            "Source: Sequence (2/2): Finished",
        ]
    );
    let over_network = support::sorted(handle.take());
    let expected: Vec<(i64, String)> = support::sorted((1..=N).map(|x| (x * 3, format!("r{x}"))).collect());
    assert_eq!(over_network, expected);

    let local = support::env(2);
    local.set_batch_size(100);
    assert_eq!(support::sorted(program(&local).execute_and_collect("in one process").unwrap()), expected);
}
