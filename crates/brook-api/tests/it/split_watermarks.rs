//! Per-split watermarks of a split-based source (`from_source_with_watermarks`).
//!
//! One reader alternates between a fast split (timestamps 1000, 2000, … 8000) and a
//! slow one (10, 20, 30), one record per poll; a punctuated strategy emits each
//! record's timestamp. The source's watermark is the minimum over its active
//! splits: it follows the slow split until that split finishes, then the fast one.

use crate::support::{collect, env};
use brook_api::{
    Boundedness, Collector, Context, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator,
    StreamRecord, WatermarkGenerator, WatermarkOutput, WatermarkStrategy,
};
use brook_types::Watermark;
use std::collections::VecDeque;
use std::task::Poll;

type Event = (String, i64);

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct NamedSplit(String);

impl SourceSplit for NamedSplit {
    fn split_id(&self) -> String {
        self.0.clone()
    }
}

struct TwoSplits(bool);

impl SplitEnumerator<NamedSplit> for TwoSplits {
    fn discover_splits(&mut self) -> brook_api::Result<Vec<NamedSplit>> {
        Ok(if std::mem::replace(&mut self.0, false) {
            vec![NamedSplit("fast".into()), NamedSplit("slow".into())]
        } else {
            vec![]
        })
    }
}

struct AlternatingReader {
    fast: VecDeque<i64>,
    slow: VecDeque<i64>,
    fast_turn: bool,
    last: Option<String>,
    finished: Vec<String>,
}

impl SourceReader<Event, NamedSplit> for AlternatingReader {
    fn add_splits(&mut self, _splits: Vec<NamedSplit>) {}
    fn no_more_splits(&mut self) {}

    fn poll_next(
        &mut self,
        _cx: &mut std::task::Context<'_>,
        out: &mut Vec<StreamRecord<Event>>,
    ) -> Poll<brook_api::Result<ReaderStatus>> {
        if self.fast.is_empty() && self.slow.is_empty() {
            return Poll::Ready(Ok(ReaderStatus::EndOfInput));
        }
        let use_fast = (self.fast_turn && !self.fast.is_empty()) || self.slow.is_empty();
        self.fast_turn = !self.fast_turn;
        let (name, queue) = if use_fast { ("fast", &mut self.fast) } else { ("slow", &mut self.slow) };
        let ts = queue.pop_front().expect("chosen split has records");
        out.push(StreamRecord::new((name.to_string(), ts)));
        if queue.is_empty() {
            self.finished.push(name.to_string());
        }
        self.last = Some(name.to_string());
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<NamedSplit> {
        vec![]
    }

    fn last_split(&self) -> Option<String> {
        self.last.clone()
    }

    fn take_finished_splits(&mut self) -> Vec<String> {
        std::mem::take(&mut self.finished)
    }
}

#[derive(Clone)]
struct TwoSplitSource;

impl Source<Event> for TwoSplitSource {
    type Split = NamedSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::Bounded
    }

    fn create_enumerator(&self, _p: usize) -> brook_api::Result<Box<dyn SplitEnumerator<NamedSplit>>> {
        Ok(Box::new(TwoSplits(true)))
    }

    fn create_reader(&self, _ctx: &ReaderContext) -> brook_api::Result<Box<dyn SourceReader<Event, NamedSplit>>> {
        Ok(Box::new(AlternatingReader {
            fast: (1..=8).map(|i| i * 1000).collect(),
            slow: VecDeque::from(vec![10, 20, 30]),
            fast_turn: true,
            last: None,
            finished: Vec::new(),
        }))
    }
}

/// Emits each event's timestamp as the watermark.
struct EveryEvent;

impl WatermarkGenerator<Event> for EveryEvent {
    fn on_event(&mut self, _event: &Event, timestamp: i64, output: &mut WatermarkOutput) {
        output.emit_watermark(Watermark(timestamp));
    }
}

#[test]
fn the_slowest_active_split_holds_back_the_sources_event_time() {
    let env = env(1);
    let strategy = WatermarkStrategy::for_generator(|| EveryEvent).with_timestamp_assigner(|e: &Event, _| e.1);
    let seen = env.from_source_with_watermarks(TwoSplitSource, strategy, "Two Splits").rebalance().process(
        |e: Event, ctx: &mut Context<'_>, out: &mut Collector<(i64, i64)>| {
            out.collect((e.1, ctx.current_watermark().0))
        },
    );
    let out = collect(&env, seen);
    let min = i64::MIN;
    // Record → the watermark the next task had seen before it. The fast split is
    // held back by the slow one (10, 20) until the slow split finishes (after 30),
    // then event time jumps to the fast split's 3000 and follows it.
    assert_eq!(
        out,
        vec![
            (1000, min),
            (10, min),
            (2000, 10),
            (20, 10),
            (3000, 20),
            (30, 20),
            (4000, 3000),
            (5000, 4000),
            (6000, 5000),
            (7000, 6000),
            (8000, 7000),
        ]
    );
}
