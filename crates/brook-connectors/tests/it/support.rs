//! What the test modules share.

use brook_api::{DataStream, StreamExecutionEnvironment};
use brook_connectors::nexmark::{Event, NexmarkReader, NexmarkSplit};
use brook_types::StreamRecord;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// An environment on a MiniCluster with `parallelism` slots.
pub fn env(parallelism: usize) -> StreamExecutionEnvironment {
    let mut config = brook_api::Configuration::new();
    config.set("taskmanager.numberOfTaskSlots", &parallelism.to_string(), "test").expect("the key is known");
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(parallelism);
    env
}

/// Runs the job and returns what `stream` produced, failing after a minute.
pub fn collect<T: brook_api::Data>(env: &StreamExecutionEnvironment, stream: DataStream<T>) -> Vec<T> {
    let handle = stream.collect();
    let client = env.execute_async("test job").expect("the job starts");
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = client.clone();
    std::thread::spawn(move || {
        let _ = tx.send(waiter.wait_for_result());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(result) => {
            result.expect("the job finishes");
        }
        Err(_) => {
            client.cancel();
            panic!("the job did not end within a minute");
        }
    }
    handle.take()
}

/// Events in a canonical order, to compare multisets.
pub fn canonical(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_cached_key(|e| format!("{e:?}"));
    events
}

/// Polls `reader` until it has produced `limit` records or ended.
pub fn drain(
    reader: &mut dyn brook_runtime::source::SourceReader<Event, NexmarkSplit>,
    limit: usize,
) -> Vec<StreamRecord<Event>> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    while out.len() < limit {
        match reader.poll_next(&mut cx, &mut out) {
            Poll::Ready(Ok(brook_runtime::source::ReaderStatus::EndOfInput)) => break,
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => panic!("reader failed: {e}"),
            Poll::Pending => panic!("a max-speed generator is never pending"),
        }
    }
    out
}

/// A reader of the given splits with batches of `batch`.
pub fn reader(
    config: &brook_connectors::nexmark::NexmarkConfig,
    splits: Vec<NexmarkSplit>,
    batch: usize,
) -> NexmarkReader {
    use brook_runtime::source::SourceReader;
    let mut r = NexmarkReader::new(config.clone(), batch);
    r.add_splits(splits);
    r.no_more_splits();
    r
}
