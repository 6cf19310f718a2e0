//! User accumulators: added to from any subtask, reported in the job result.

use crate::support::{env, run};
use brook_api::{Collector, Context, ProcessFunction, RuntimeContext, SinkFunction};
use brook_runtime::metrics::Accumulator;
use brook_types::Batch;

/// Counts its openings and sums the records it sees in accumulators.
#[derive(Clone, Default)]
struct Summing {
    sum: Option<Accumulator>,
}

impl ProcessFunction<i64, i64> for Summing {
    fn open(&mut self, ctx: &RuntimeContext) {
        ctx.accumulator("opened").add(1);
        self.sum = Some(ctx.accumulator("sum"));
    }

    fn process_element(&mut self, value: i64, ctx: &mut Context<'_>, out: &mut Collector<i64>) {
        self.sum.as_ref().expect("open runs first").add(value);
        ctx.runtime_context().accumulator("records").add(1);
        out.collect(value);
    }
}

#[test]
fn accumulators_add_up_over_subtasks() {
    let env = env(2);
    env.generate_sequence(1, 1000).process(Summing::default()).discard();
    let result = run(&env, "accumulators").unwrap();
    assert_eq!(result.accumulator("opened"), Some(2));
    assert_eq!(result.accumulator("sum"), Some(500_500));
    assert_eq!(result.accumulator("records"), Some(1000));
    assert_eq!(result.accumulator("never-added"), None);
    assert_eq!(result.accumulators.len(), 3);
}

#[test]
fn accumulators_belong_to_one_job() {
    let env = env(1);
    env.generate_sequence(1, 10).process(Summing::default()).discard();
    assert_eq!(run(&env, "first").unwrap().accumulator("sum"), Some(55));
    env.generate_sequence(1, 3).process(Summing::default()).discard();
    assert_eq!(run(&env, "second").unwrap().accumulator("sum"), Some(6));
}

/// A sink that counts what it writes in an accumulator.
#[derive(Clone, Default)]
struct CountingSink {
    written: Option<Accumulator>,
}

impl SinkFunction<i64> for CountingSink {
    fn open(&mut self, ctx: &RuntimeContext) -> brook_api::Result<()> {
        self.written = Some(ctx.accumulator("written"));
        Ok(())
    }

    fn write_batch(&mut self, batch: Batch<i64>) -> brook_api::Result<()> {
        self.written.as_ref().expect("open runs first").add(batch.len() as i64);
        Ok(())
    }
}

#[test]
fn sinks_can_add_to_accumulators() {
    let env = env(2);
    env.generate_sequence(1, 777).sink_to(CountingSink::default(), "Counting Sink");
    let result = run(&env, "sink accumulator").unwrap();
    assert_eq!(result.accumulator("written"), Some(777));
    assert_eq!(result.operator_records["Counting Sink"], (777, 0));
}
