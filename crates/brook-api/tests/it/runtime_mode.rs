//! STREAMING emits every update of a keyed aggregation; BATCH only each key's final
//! value; AUTOMATIC is BATCH when every source is bounded and STREAMING otherwise.

use crate::support::{collect, env, per_key, sorted};
use brook_api::{DataStream, RuntimeMode, StreamExecutionEnvironment};
use std::io::Write;
use std::net::TcpListener;

fn word_counts(env: &StreamExecutionEnvironment, words: DataStream<String>) -> Vec<(String, i64)> {
    let stream =
        words.map(|w: String| (w, 1i64)).key_by(|(w, _): &(String, i64)| w.clone()).sum(|(_, n): &mut (String, i64)| n);
    collect(env, stream)
}

fn words() -> Vec<String> {
    "a b a c a b".split(' ').map(str::to_string).collect()
}

#[test]
fn streaming_emits_every_update_per_key() {
    let env = env(2);
    env.set_runtime_mode(RuntimeMode::Streaming);
    let out = word_counts(&env, env.from_collection(words()));
    let groups: Vec<(String, Vec<i64>)> = per_key(out).into_iter().collect();
    assert_eq!(groups, vec![("a".into(), vec![1, 2, 3]), ("b".into(), vec![1, 2]), ("c".into(), vec![1])]);
}

#[test]
fn streaming_is_the_default_mode() {
    let env = env(2);
    let out = word_counts(&env, env.from_collection(words()));
    assert_eq!(out.len(), 6, "one update per record: {out:?}");
}

#[test]
fn batch_emits_each_keys_final_value_once() {
    let env = env(2);
    env.set_runtime_mode(RuntimeMode::Batch);
    let out = word_counts(&env, env.from_collection(words()));
    assert_eq!(sorted(out), vec![("a".into(), 3), ("b".into(), 2), ("c".into(), 1)]);
}

#[test]
fn batch_emits_the_final_values_in_the_order_keys_were_first_seen() {
    let env = env(1);
    env.set_runtime_mode(RuntimeMode::Batch);
    let words = "pear fig apple fig pear kiwi fig".split(' ').map(str::to_string).collect();
    let out = word_counts(&env, env.from_collection(words));
    assert_eq!(out, vec![("pear".into(), 2), ("fig".into(), 3), ("apple".into(), 1), ("kiwi".into(), 1)]);
}

#[test]
fn batch_reduce_over_a_parallel_source_emits_one_total_per_key() {
    let env = env(2);
    env.set_runtime_mode(RuntimeMode::Batch);
    let stream = env
        .generate_sequence(1, 1000)
        .map(|x: i64| (x % 4, x))
        .key_by(|(k, _): &(i64, i64)| *k)
        .reduce(|(k, a): (i64, i64), (_, b): (i64, i64)| (k, a + b));
    let expected: Vec<(i64, i64)> = (0..4).map(|k| (k, (1..=1000).filter(|x| x % 4 == k).sum())).collect();
    assert_eq!(sorted(collect(&env, stream)), expected);
}

#[test]
fn automatic_on_bounded_input_behaves_as_batch() {
    let env = env(2);
    env.set_runtime_mode(RuntimeMode::Automatic);
    let out = word_counts(&env, env.from_collection(words()));
    assert_eq!(sorted(out), vec![("a".into(), 3), ("b".into(), 2), ("c".into(), 1)]);
}

#[test]
fn automatic_on_unbounded_input_behaves_as_streaming() {
    // A socket source is unbounded (even though this server closes after a few lines).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"a\nb\na\na\n").unwrap();
    });
    let env = env(2);
    env.set_runtime_mode(RuntimeMode::Automatic);
    let out = word_counts(&env, env.socket_text_stream("127.0.0.1", port));
    server.join().unwrap();
    let groups: Vec<(String, Vec<i64>)> = per_key(out).into_iter().collect();
    assert_eq!(groups, vec![("a".into(), vec![1, 2, 3]), ("b".into(), vec![1])]);
}

#[test]
fn batch_mode_rejects_an_unbounded_source() {
    let env = env(1);
    env.set_runtime_mode(RuntimeMode::Batch);
    // Nothing listens on this port; the job is rejected before the source connects.
    env.socket_text_stream("127.0.0.1", 9).discard();
    let err = env.execute("batch on a socket").unwrap_err().to_string();
    assert!(err.contains("BATCH") && err.contains("unbounded"), "{err}");
}

#[test]
fn runtime_mode_can_be_set_in_the_configuration() {
    let mut config = crate::support::config_with_slots(2);
    config.set("execution.runtime-mode", "batch", "test").unwrap();
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(2);
    let out = word_counts(&env, env.from_collection(words()));
    assert_eq!(sorted(out), vec![("a".into(), 3), ("b".into(), 2), ("c".into(), 1)]);
}
