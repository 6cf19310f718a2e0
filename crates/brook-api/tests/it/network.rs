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
/// Returns each task's outcome (sorted by task name), and the number of data-plane
/// connections each TaskManager had at the end.
fn run_on_two_task_managers(graph: StreamGraph) -> (Vec<(String, TaskOutcome)>, Vec<usize>) {
    run_on_two_task_managers_and(graph, |_| async {})
}

/// Like `run_on_two_task_managers`, running `meanwhile` with the two data planes while
/// the tasks run.
fn run_on_two_task_managers_and<F: std::future::Future<Output = ()> + Send + 'static>(
    mut graph: StreamGraph,
    meanwhile: impl FnOnce(Vec<Arc<NetworkEnvironment>>) -> F,
) -> (Vec<(String, TaskOutcome)>, Vec<usize>) {
    graph.resolve().unwrap();
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
        let meanwhile = tokio::spawn(meanwhile(networks.clone()));
        let mut outcomes = Vec::new();
        for r in running {
            outcomes.push(tokio::time::timeout(support::JOB_DEADLINE, r).await.expect("the job ends").unwrap());
        }
        meanwhile.await.unwrap();
        outcomes.sort_by(|a, b| a.0.cmp(&b.0));
        (outcomes, networks.iter().map(|n| n.num_connections()).collect())
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
    let (outcomes, connections) = run_on_two_task_managers(env.take_stream_graph("over the network").unwrap());
    assert_eq!(connections, vec![1, 1], "the rebalance crossed between the TaskManagers on one connection");
    let outcomes: Vec<String> = outcomes.into_iter().map(|(name, o)| format!("{name}: {o:?}")).collect();
    assert_eq!(
        outcomes,
        vec![
            "Map -> Sink: Collect (1/2): Finished",
            "Map -> Sink: Collect (2/2): Finished",
            "Source: Sequence Source (1/2): Finished",
            "Source: Sequence Source (2/2): Finished",
        ]
    );
    let over_network = support::sorted(handle.take());
    let expected: Vec<(i64, String)> = support::sorted((1..=N).map(|x| (x * 3, format!("r{x}"))).collect());
    assert_eq!(over_network, expected);

    let local = support::env(2);
    local.set_batch_size(100);
    assert_eq!(support::sorted(program(&local).execute_and_collect("in one process").unwrap()), expected);
}

#[test]
fn a_task_manager_whose_data_plane_goes_away_fails_the_tasks_on_the_other_with_its_address() {
    let env = support::env(2);
    env.set_batch_size(100);
    // Long enough to be running when the data plane of TaskManager 1 stops.
    env.generate_sequence(1, i64::MAX).rebalance().map(|x| x + 1).discard();
    let address = Arc::new(parking_lot::Mutex::new(String::new()));
    let seen = address.clone();
    let (outcomes, connections) =
        run_on_two_task_managers_and(env.take_stream_graph("failing").unwrap(), move |networks| async move {
            *seen.lock() = networks[1].address().to_string();
            // Once records cross both ways, TaskManager 1's data plane stops.
            while networks[0].num_connections() == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            networks[1].shutdown();
        });
    let address = address.lock().clone();
    assert_eq!(connections, vec![0, 0], "the broken connection is forgotten on both sides");
    // TaskManager 0's tasks fail naming TaskManager 1's data address (whether its read
    // saw the connection close or its write failed first); TaskManager 1's own tasks
    // fail because its data plane shut down.
    let outcomes: Vec<(String, String)> = outcomes
        .into_iter()
        .map(|(name, outcome)| {
            let what = match outcome {
                TaskOutcome::Failed(cause) if cause.contains(&format!("the TaskManager at {address} ")) => {
                    assert!(cause.starts_with(&format!("task '{name}' failed: ")), "{cause}");
                    "failed naming the peer".to_string()
                }
                TaskOutcome::Failed(cause)
                    if cause == format!("task '{name}' failed: the data plane of this TaskManager shut down") =>
                {
                    "failed: its data plane shut down".to_string()
                }
                other => format!("{other:?}"),
            };
            (name, what)
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("Map -> Sink: Discard (1/2)", "failed naming the peer"),
        ("Map -> Sink: Discard (2/2)", "failed: its data plane shut down"),
        ("Source: Sequence Source (1/2)", "failed naming the peer"),
        ("Source: Sequence Source (2/2)", "failed: its data plane shut down"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(outcomes, expected);
}
