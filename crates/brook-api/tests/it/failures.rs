//! What a user sees when a job cannot run or fails: the error names the cause and
//! where it happened, the job ends, and the process lives on.

use crate::support::{collect, config_with_slots, env, env_with_slots, eventually, run, sorted};
use brook_api::{BrookError, Collector, Context, ProcessFunction, RuntimeContext, StreamExecutionEnvironment};
use std::time::{Duration, Instant};

#[test]
fn a_panicking_map_fails_the_job_with_the_message_and_operator_name() {
    let env = env(1);
    env.from_collection((1..=100i64).collect())
        .map(|x: i64| {
            if x == 42 {
                panic!("cannot explode record {x}");
            }
            x
        })
        .name("Exploder")
        .discard();
    let err = env.execute("explodes").unwrap_err();
    assert!(matches!(err, BrookError::JobFailed { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("cannot explode record 42"), "{message}");
    assert!(message.contains("Exploder"), "{message}");
    assert!(message.contains("explodes"), "names the job: {message}");

    // The process survived and the same environment runs the next job.
    let stream = env.from_collection(vec![1i64, 2, 3]).map(|x: i64| x * 10).name("Exploder");
    assert_eq!(collect(&env, stream), vec![10, 20, 30]);
}

#[test]
fn a_panic_downstream_of_a_backpressured_source_ends_the_job() {
    // The source is far ahead and blocked on credits when the map fails; the job
    // must still end (FAILED), with every subtask stopped.
    let env = env(2);
    env.generate_sequence(1, 5_000_000)
        .rebalance()
        .map(|x: i64| if x == 20_000 { panic!("poisoned record") } else { x })
        .name("Poisoned")
        .discard();
    let client = env.execute_async("poisoned").unwrap();
    let ended = eventually(&client, Duration::from_secs(30), |s| s.status.is_globally_terminal());
    assert!(ended, "{:?}", client.snapshot());
    let snapshot = client.snapshot();
    assert_eq!(snapshot.status, brook_api::JobStatus::Failed);
    for v in &snapshot.vertices {
        assert!(v.subtask_states.iter().all(|s| s.is_terminal()), "{snapshot:?}");
    }
    let message = client.wait_for_result().unwrap_err().to_string();
    assert!(message.contains("poisoned record") && message.contains("Poisoned"), "{message}");
}

#[test]
fn a_job_needing_more_slots_than_exist_fails_fast() {
    let env = StreamExecutionEnvironment::with_configuration(config_with_slots(2));
    env.set_parallelism(4);
    env.generate_sequence(1, 10).discard();
    let started = Instant::now();
    let err = env.execute("too wide").unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(err.contains("needs 4") && err.contains("has 2"), "{err}");
}

#[test]
fn the_dynamic_form_of_the_slot_option_works_too() {
    let mut config = brook_api::Configuration::new();
    config.set_dynamic("taskmanager.numberOfTaskSlots=3").unwrap();
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(3);
    let stream = env.generate_sequence(1, 9).process(crate::support::TagSubtask);
    let subtasks: std::collections::BTreeSet<usize> = collect(&env, stream).into_iter().map(|(s, _)| s).collect();
    assert_eq!(subtasks, [0, 1, 2].into());
    env.set_parallelism(4);
    env.generate_sequence(1, 9).discard();
    let err = env.execute("four on three").unwrap_err().to_string();
    assert!(err.contains("needs 4") && err.contains("has 3"), "{err}");
}

#[test]
fn duplicate_uids_are_rejected() {
    let env = env(1);
    env.generate_sequence(1, 10).uid("same").map(|x: i64| x).name("second").uid("same").discard();
    let err = env.execute("dup uid").unwrap_err();
    assert!(matches!(err, BrookError::InvalidProgram(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("uid 'same'") && message.contains("second"), "{message}");
}

#[test]
fn executing_an_empty_program_is_an_error() {
    let env = env(1);
    let err = env.execute("empty").unwrap_err().to_string();
    assert!(err.contains("no operators"), "{err}");
    // So is executing again after a job consumed the program.
    env.generate_sequence(1, 3).discard();
    run(&env, "once").unwrap();
    let err = env.execute("twice").unwrap_err().to_string();
    assert!(err.contains("no operators"), "{err}");
}

#[test]
fn settings_on_a_union_are_reported_at_execute() {
    let env = env(1);
    let a = env.from_collection(vec![1i64]);
    let b = env.from_collection(vec![2i64]);
    let u = a.union([b]).name("u");
    u.discard();
    let err = env.execute("union name").unwrap_err().to_string();
    assert!(err.contains("union()"), "{err}");
}

#[test]
fn a_custom_partitioner_returning_a_bad_channel_fails_the_job() {
    let env = env_with_slots(2, 2);
    env.generate_sequence(1, 10).partition_custom(|_: &i64, n: usize| n + 3, |x: &i64| *x).map(|x: i64| x).discard();
    let err = run(&env, "bad channel").unwrap_err().to_string();
    assert!(err.contains("custom partitioner returned channel 5"), "{err}");
}

#[test]
fn a_missing_input_file_fails_the_job_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("does-not-exist.txt");
    let env = env(1);
    env.read_text_file(&missing).discard();
    let err = run(&env, "missing input").unwrap_err().to_string();
    assert!(err.contains("does-not-exist.txt"), "{err}");
}

#[test]
fn an_unwritable_output_path_fails_the_job_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let env = env(1);
    // The parent of the output "directory" is a regular file.
    env.generate_sequence(1, 3).write_as_text(blocker.join("out.txt"));
    let err = run(&env, "unwritable").unwrap_err().to_string();
    assert!(err.contains("a-file"), "{err}");
}

#[test]
fn a_socket_source_without_a_server_fails_the_job() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let env = env(1);
    env.socket_text_stream("127.0.0.1", port).discard();
    let err = run(&env, "no server").unwrap_err().to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[test]
fn parallelism_zero_is_rejected() {
    let env = env(1);
    env.generate_sequence(1, 3).map(|x: i64| x).name("nothing").set_parallelism(0).discard();
    let err = env.execute("p0").unwrap_err().to_string();
    assert!(err.contains("nothing") && err.contains("at least 1"), "{err}");
}

#[test]
fn failed_jobs_do_not_leak_slots_of_a_reused_configuration() {
    // Each execute starts its own MiniCluster, so a failed job never blocks the next.
    let env = env_with_slots(2, 2);
    env.generate_sequence(1, 10).map(|x: i64| if x == 7 { panic!("seven") } else { x }).discard();
    assert!(run(&env, "fails").is_err());
    let stream = env.generate_sequence(1, 4);
    assert_eq!(sorted(collect(&env, stream)), vec![1, 2, 3, 4]);
}

#[test]
fn a_panicking_co_map_names_its_operator() {
    let env = env(1);
    let first = env.from_collection(vec![1i64]);
    let second = env.from_collection(vec![2i64]);
    first
        .connect(second)
        .co_map(|x: i64| x, |y: i64| -> i64 { panic!("co-map cannot take {y}") })
        .name("CoExploder")
        .discard();
    let message = run(&env, "co-map panic").unwrap_err().to_string();
    assert!(message.contains("co-map cannot take 2") && message.contains("CoExploder"), "{message}");
}

/// A function whose `open` fails.
#[derive(Clone)]
struct FailsToOpen;

impl ProcessFunction<i64, i64> for FailsToOpen {
    fn open(&mut self, _ctx: &RuntimeContext) {
        panic!("cannot reach the lookup service");
    }

    fn process_element(&mut self, value: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>) {
        out.collect(value);
    }
}

#[test]
fn a_panic_in_open_names_the_operator() {
    let env = env(1);
    env.generate_sequence(1, 3).process(FailsToOpen).name("Opener").discard();
    let message = run(&env, "open fails").unwrap_err().to_string();
    assert!(message.contains("cannot reach the lookup service"), "{message}");
    assert!(message.contains("Opener"), "names the operator: {message}");
}

#[test]
fn parallelism_above_max_parallelism_is_rejected() {
    let env = env_with_slots(4, 4);
    env.set_max_parallelism(2);
    env.generate_sequence(1, 3).discard();
    let err = env.execute("too parallel").unwrap_err().to_string();
    assert!(err.contains("parallelism 4") && err.contains("max parallelism 2"), "{err}");
}

#[test]
fn slot_sharing_groups_need_slots_of_their_own() {
    let env = env_with_slots(2, 2);
    env.generate_sequence(1, 10).map(|x: i64| x).slot_sharing_group("other").discard();
    let err = env.execute("two groups").unwrap_err().to_string();
    assert!(err.contains("needs 4") && err.contains("has 2") && err.contains("'other' needs 2"), "{err}");

    let env = env_with_slots(4, 2);
    let stream = env.generate_sequence(1, 10).map(|x: i64| x).slot_sharing_group("other");
    assert_eq!(sorted(collect(&env, stream)), (1..=10).collect::<Vec<_>>());
}

/// A source whose reader panics after its first batch.
#[derive(Clone)]
struct ExplodingSource;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct OnlySplit;

impl brook_api::SourceSplit for OnlySplit {
    fn split_id(&self) -> String {
        "only".into()
    }
}

struct OneSplit(bool);

impl brook_api::SplitEnumerator<OnlySplit> for OneSplit {
    fn discover_splits(&mut self) -> brook_api::Result<Vec<OnlySplit>> {
        Ok(if std::mem::replace(&mut self.0, false) { vec![OnlySplit] } else { vec![] })
    }
}

struct ExplodingReader(u32);

impl brook_api::SourceReader<i64, OnlySplit> for ExplodingReader {
    fn add_splits(&mut self, _splits: Vec<OnlySplit>) {}
    fn no_more_splits(&mut self) {}
    fn poll_next(
        &mut self,
        _cx: &mut std::task::Context<'_>,
        out: &mut Vec<brook_types::StreamRecord<i64>>,
    ) -> std::task::Poll<brook_api::Result<brook_runtime::source::ReaderStatus>> {
        self.0 += 1;
        assert!(self.0 < 2, "the device is gone");
        out.push(brook_types::StreamRecord::new(1));
        std::task::Poll::Ready(Ok(brook_runtime::source::ReaderStatus::MoreAvailable))
    }
    fn snapshot_splits(&self) -> Vec<OnlySplit> {
        vec![OnlySplit]
    }
}

impl brook_api::Source<i64> for ExplodingSource {
    type Split = OnlySplit;
    fn boundedness(&self) -> brook_api::Boundedness {
        brook_api::Boundedness::Bounded
    }
    fn create_enumerator(&self, _p: usize) -> brook_api::Result<Box<dyn brook_api::SplitEnumerator<OnlySplit>>> {
        Ok(Box::new(OneSplit(true)))
    }
    fn create_reader(
        &self,
        _ctx: &brook_runtime::source::ReaderContext,
    ) -> brook_api::Result<Box<dyn brook_api::SourceReader<i64, OnlySplit>>> {
        Ok(Box::new(ExplodingReader(0)))
    }
}

#[test]
fn a_panic_in_a_source_reader_names_the_source() {
    let env = env(1);
    env.from_source(ExplodingSource, "Exploding Source").discard();
    let message = run(&env, "reader fails").unwrap_err().to_string();
    assert!(message.contains("the device is gone"), "{message}");
    assert!(message.contains("operator 'Source: Exploding Source'"), "names the source operator: {message}");
}
