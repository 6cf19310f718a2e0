//! Property: the watermark every operator sees never decreases, at any stage and
//! subtask, for any out-of-order input (issue "Event time", property tests).

use crate::support::{env_with_slots, run};
use brook_api::{Collector, Context, WatermarkStrategy};
use parking_lot::Mutex;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

type Seen = Arc<Mutex<BTreeMap<(&'static str, usize), Vec<i64>>>>;

/// Records the watermark seen with each record, per stage and subtask.
#[derive(Clone)]
struct Observe {
    stage: &'static str,
    seen: Seen,
}

impl brook_api::ProcessFunction<(i64, i64), (i64, i64)> for Observe {
    fn process_element(&mut self, e: (i64, i64), ctx: &mut Context<'_>, out: &mut Collector<(i64, i64)>) {
        let subtask = ctx.runtime_context().index_of_this_subtask();
        self.seen.lock().entry((self.stage, subtask)).or_default().push(ctx.current_watermark().0);
        out.collect(e);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn watermarks_never_decrease_at_any_operator(
        events in proptest::collection::vec((0i64..5, 0i64..2_000), 1..400),
        bound_ms in 0u64..50,
    ) {
        let seen: Seen = Arc::default();
        let env = env_with_slots(4, 2);
        env.set_auto_watermark_interval(Duration::from_millis(1));
        let strategy = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(bound_ms))
            .with_timestamp_assigner(|e: &(i64, i64), _| e.1);
        env.from_collection(events.clone())
            .rebalance()
            .assign_timestamps_and_watermarks(strategy)
            .process(Observe { stage: "after assigner", seen: seen.clone() })
            .key_by(|e: &(i64, i64)| e.0)
            .into_data_stream()
            .process(Observe { stage: "after key_by", seen: seen.clone() })
            .rebalance()
            .process(Observe { stage: "after rebalance", seen: seen.clone() })
            .set_parallelism(3)
            .discard();
        run(&env, "monotonic watermarks").unwrap();
        let seen = seen.lock();
        let mut records = 0;
        for ((stage, subtask), marks) in seen.iter() {
            records += marks.len();
            for pair in marks.windows(2) {
                prop_assert!(pair[0] <= pair[1], "{stage}, subtask {subtask}: {} then {}", pair[0], pair[1]);
            }
        }
        prop_assert_eq!(records, 3 * events.len(), "every record passed every stage");
    }
}
