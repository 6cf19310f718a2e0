//! `execute_async` and the JobClient: job and subtask states, results, cancel.

use crate::support::{JOB_DEADLINE, env, eventually};
use brook_api::{BrookError, JobStatus};
use brook_runtime::task::ExecutionState;
use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_canceled_unbounded_job_ends_canceled() {
    // A server that sends one line and then keeps the connection open until the
    // test tells it to stop: the socket source never ends by itself.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"first line\n").unwrap();
        let _ = stop_rx.recv_timeout(JOB_DEADLINE);
        drop(conn);
    });

    let env = env(2);
    let seen = env
        .socket_text_stream("127.0.0.1", port)
        .map(|l: String| l.to_uppercase())
        .set_parallelism(1)
        .rebalance()
        .collect();
    let client = env.execute_async("endless").unwrap();
    let all_running = eventually(&client, Duration::from_secs(20), |s| {
        s.status == JobStatus::Running
            && s.vertices.iter().all(|v| v.subtask_states.iter().all(|t| *t == ExecutionState::Running))
    });
    assert!(all_running, "{:?}", client.snapshot());
    let snapshot = client.snapshot();
    assert_eq!(snapshot.name, "endless");
    assert_eq!(snapshot.job_id, client.job_id());
    // Source (p=1, the map chained to it) and the collect sink (p=2).
    let shape: Vec<usize> = snapshot.vertices.iter().map(|v| v.parallelism).collect();
    assert_eq!(shape, vec![1, 2]);
    // The line already sent reaches the sink while the job runs.
    let arrived = eventually(&client, Duration::from_secs(20), |_| seen.len() == 1);
    assert!(arrived, "the first line reaches the sink");
    assert_eq!(client.status(), JobStatus::Running);

    client.cancel();
    let err = client.wait_for_result().unwrap_err();
    assert!(matches!(err, BrookError::JobCanceled { .. }), "{err:?}");
    assert!(err.to_string().contains("endless"), "{err}");
    assert_eq!(client.status(), JobStatus::Canceled);
    let snapshot = client.snapshot();
    for v in &snapshot.vertices {
        assert!(v.subtask_states.iter().all(|t| *t == ExecutionState::Canceled), "{snapshot:?}");
    }
    assert_eq!(seen.take(), vec!["FIRST LINE"]);
    stop_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn execute_async_of_a_bounded_job_yields_its_result() {
    let env = env(2);
    let out = env.generate_sequence(1, 100).map(|x: i64| x * 2).collect();
    let client = env.execute_async("bounded").unwrap();
    let result = client.wait_for_result().unwrap();
    assert_eq!(result.job_id, client.job_id());
    assert_eq!(result.job_name, "bounded");
    assert_eq!(client.status(), JobStatus::Finished);
    let snapshot = client.snapshot();
    assert_eq!(snapshot.status, JobStatus::Finished);
    assert!(snapshot.failure_cause.is_none());
    for v in &snapshot.vertices {
        assert_eq!(v.subtask_states, vec![ExecutionState::Finished; v.parallelism], "{}", v.name);
    }
    assert_eq!(out.len(), 100);
    assert_eq!(result.operator_records["Map"], (100, 100));
    // Waiting again returns the same outcome.
    assert_eq!(client.wait_for_result().unwrap().job_id, result.job_id);
}

#[test]
fn the_async_result_future_resolves_when_the_job_ends() {
    let env = env(1);
    env.generate_sequence(1, 10).discard();
    let client = env.execute_async("async").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = runtime.block_on(async { tokio::time::timeout(JOB_DEADLINE, client.result()).await }).unwrap();
    assert_eq!(result.unwrap().operator_records["Sink: Discard"].0, 10);
}

#[test]
fn a_failed_job_reports_failed_with_its_cause_in_the_snapshot() {
    let env = env(1);
    env.from_collection(vec![1i64, 2]).map(|x: i64| if x == 2 { panic!("two is too many") } else { x }).discard();
    let client = env.execute_async("fails").unwrap();
    let err = client.wait_for_result().unwrap_err();
    assert!(matches!(err, BrookError::JobFailed { .. }), "{err:?}");
    assert_eq!(client.status(), JobStatus::Failed);
    let cause = client.snapshot().failure_cause.unwrap();
    assert!(cause.contains("two is too many"), "{cause}");
}

#[test]
fn canceling_a_finished_job_changes_nothing() {
    let env = env(1);
    env.generate_sequence(1, 10).discard();
    let client = env.execute_async("done").unwrap();
    client.wait_for_result().unwrap();
    client.cancel();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(client.status(), JobStatus::Finished);
    assert!(client.wait_for_result().is_ok());
}

#[test]

fn wait_until_wakes_up_for_changes_made_while_the_predicate_runs() {
    let env = env(1);
    // The job takes about 200 ms.
    env.generate_sequence(1, 2)
        .map(|x: i64| {
            std::thread::sleep(Duration::from_millis(100));
            x
        })
        .discard();
    let client = env.execute_async("short").unwrap();
    let started = Instant::now();
    // A predicate that takes a while (it could log, or look at files); the job ends
    // while it runs the first time, and nothing changes after that.
    let ended = client.wait_until(Duration::from_secs(5), |s| {
        let done = s.status.is_globally_terminal();
        if !done {
            std::thread::sleep(Duration::from_millis(600));
        }
        done
    });
    assert!(ended);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(2), "wait_until returned after {waited:?} for a job of 200 ms");
}
