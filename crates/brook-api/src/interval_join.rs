//! `KeyedStream::interval_join`: joins records of two keyed streams whose
//! timestamps are within an interval of each other (Flink's `intervalJoin`).

use crate::connected_streams::ConnectedStreams;
use crate::data_stream::DataStream;
use crate::environment::record_misuse;
use brook_runtime::functions::RuntimeContext;
use brook_runtime::key_selector::KeySelector;
use brook_runtime::operators::{IntervalJoinOperator, JoinBounds, ProcessJoinFunction};
use brook_runtime::side_output::SideOutputs;
use brook_types::Data;

/// Two keyed streams to join; pick the interval with [`IntervalJoin::between`].
pub struct IntervalJoin<L, R, SL, SR> {
    left: DataStream<L>,
    right: DataStream<R>,
    left_key: SL,
    right_key: SR,
}

impl<L, R, SL, SR> IntervalJoin<L, R, SL, SR>
where
    L: Data,
    R: Data,
    SL: KeySelector<L>,
    SR: KeySelector<R, Key = SL::Key>,
{
    pub(crate) fn new(left: DataStream<L>, left_key: SL, right: DataStream<R>, right_key: SR) -> Self {
        Self { left, right, left_key, right_key }
    }

    /// Joins a left record at `t` with right records in `[t + lower_ms, t + upper_ms]`.
    pub fn between(self, lower_ms: i64, upper_ms: i64) -> IntervalJoined<L, R, SL, SR> {
        if lower_ms > upper_ms {
            record_misuse(
                &self.left.env.builder,
                format!("interval join bounds: lower bound {lower_ms} ms is above upper bound {upper_ms} ms"),
            );
        }
        IntervalJoined {
            join: self,
            bounds: JoinBounds { lower: lower_ms, upper: upper_ms, lower_inclusive: true, upper_inclusive: true },
        }
    }
}

/// An interval join with its bounds.
pub struct IntervalJoined<L, R, SL, SR> {
    join: IntervalJoin<L, R, SL, SR>,
    bounds: JoinBounds,
}

impl<L, R, SL, SR> IntervalJoined<L, R, SL, SR>
where
    L: Data,
    R: Data,
    SL: KeySelector<L>,
    SR: KeySelector<R, Key = SL::Key>,
{
    /// `t + lower` itself does not match.
    pub fn lower_bound_exclusive(mut self) -> Self {
        self.bounds.lower_inclusive = false;
        self
    }

    /// `t + upper` itself does not match.
    pub fn upper_bound_exclusive(mut self) -> Self {
        self.bounds.upper_inclusive = false;
        self
    }

    /// Calls `function` for every matching pair.
    pub fn process<O: Data, P: ProcessJoinFunction<L, R, O>>(self, function: P) -> DataStream<O> {
        let IntervalJoin { left, right, left_key, right_key } = self.join;
        let bounds = self.bounds;
        let make = move |ctx: &RuntimeContext, side: &mut SideOutputs| {
            Ok(IntervalJoinOperator::new(
                left_key.clone(),
                right_key.clone(),
                bounds,
                function.clone(),
                ctx.clone(),
                std::mem::take(side),
            ))
        };
        ConnectedStreams::new(left, right).add_operator("IntervalJoin", make)
    }
}
