//! map, filter, flat_map, process (context, timestamps, side outputs, finish) and union.

use crate::support::{TagSubtask, collect, env, env_with_slots, sorted};
use brook_api::{Collector, Context, OutputTag, ProcessFunction, RuntimeContext};

#[test]
fn map_filter_and_flat_map_keep_the_order_of_one_subtask() {
    let env = env(1);
    let out = env
        .from_collection((1..=10i64).collect())
        .map(|x: i64| x * 3)
        .filter(|x: &i64| x % 2 == 0)
        .flat_map(|x: i64| vec![x, -x])
        .execute_and_collect("map filter flat_map")
        .unwrap();
    assert_eq!(out, vec![6, -6, 12, -12, 18, -18, 24, -24, 30, -30]);
}

#[test]
fn map_changes_the_record_type() {
    let env = env(2);
    let stream = env.generate_sequence(1, 6).map(|x: i64| (format!("n{x}"), x * x));
    let out = sorted(collect(&env, stream));
    let expected: Vec<(String, i64)> = (1..=6).map(|x| (format!("n{x}"), x * x)).collect();
    assert_eq!(out, sorted(expected));
}

#[test]
fn flat_map_emits_zero_or_more_records_per_input() {
    let env = env(2);
    let lines = vec!["a b c".to_string(), String::new(), "d".to_string(), "e f".to_string()];
    let stream = env
        .from_collection(lines)
        .rebalance()
        .flat_map(|line: String| line.split_whitespace().map(str::to_string).collect::<Vec<_>>());
    assert_eq!(sorted(collect(&env, stream)), vec!["a", "b", "c", "d", "e", "f"]);
}

#[test]
fn filter_that_rejects_everything_yields_nothing_and_the_job_finishes() {
    let env = env(2);
    let stream = env.generate_sequence(1, 1000).filter(|_: &i64| false);
    assert_eq!(collect(&env, stream), Vec::<i64>::new());
}

#[test]
fn process_sees_its_subtask_index_and_parallelism() {
    // The sequence source gives subtask i the contiguous range i*30+1..=(i+1)*30,
    // and the process function is chained to it (same parallelism, forward).
    let env = env_with_slots(3, 3);
    let stream = env.generate_sequence(1, 90).process(
        |v: i64, ctx: &mut Context<'_>, out: &mut Collector<(usize, usize, i64)>| {
            let rc = ctx.runtime_context();
            out.collect((rc.index_of_this_subtask(), rc.number_of_parallel_subtasks(), v));
        },
    );
    let expected: Vec<(usize, usize, i64)> = (1..=90).map(|v| (((v - 1) / 30) as usize, 3, v)).collect();
    assert_eq!(sorted(collect(&env, stream)), expected);
}

#[test]
fn timestamps_set_by_a_process_function_travel_with_the_records() {
    let env = env(1);
    let stream = env
        .from_collection((1..=5i64).collect())
        // Sources assign no timestamps; this function assigns v * 1000.
        .process(|v: i64, ctx: &mut Context<'_>, out: &mut Collector<(i64, Option<i64>)>| {
            out.collect_with_timestamp((v, ctx.timestamp()), v * 1000);
        })
        // map, filter and flat_map keep the timestamp of their input.
        .map(|(v, seen): (i64, Option<i64>)| (v, seen))
        .filter(|(v, _): &(i64, Option<i64>)| *v != 3)
        .flat_map(|r: (i64, Option<i64>)| vec![r])
        // A network edge in between: timestamps cross channels too.
        .rebalance()
        .process(
            |(v, seen): (i64, Option<i64>),
             ctx: &mut Context<'_>,
             out: &mut Collector<(i64, Option<i64>, Option<i64>)>| {
                out.collect((v, seen, ctx.timestamp()));
            },
        );
    assert_eq!(
        collect(&env, stream),
        vec![(1, None, Some(1000)), (2, None, Some(2000)), (4, None, Some(4000)), (5, None, Some(5000))]
    );
}

#[test]
fn side_outputs_carry_what_process_emits_to_each_tag() {
    let env = env(2);
    let odd: OutputTag<String> = OutputTag::new("odd");
    let big: OutputTag<i64> = OutputTag::new("big");
    let unused: OutputTag<i64> = OutputTag::new("nobody-reads-this");
    let (odd_in_fn, big_in_fn) = (odd.clone(), big.clone());
    let main = env.generate_sequence(1, 12).process(move |v: i64, ctx: &mut Context<'_>, out: &mut Collector<i64>| {
        if v % 2 == 0 {
            out.collect(v);
        } else {
            ctx.output(&odd_in_fn, format!("odd-{v}"));
        }
        if v > 9 {
            ctx.output(&big_in_fn, v * 100);
        }
        ctx.output(&unused, v);
    });
    let odds = main.get_side_output(&odd).rebalance().process(TagSubtask).map(|(_, s): (usize, String)| s).collect();
    let bigs = main.get_side_output(&big).collect();
    let evens = main.collect();
    crate::support::run(&env, "side outputs").unwrap();
    assert_eq!(sorted(evens.take()), vec![2, 4, 6, 8, 10, 12]);
    assert_eq!(sorted(odds.take()), vec!["odd-1", "odd-11", "odd-3", "odd-5", "odd-7", "odd-9"]);
    assert_eq!(sorted(bigs.take()), vec![1000, 1100, 1200]);
}

#[test]
fn side_output_records_keep_the_timestamp_of_their_input() {
    let env = env(1);
    let late: OutputTag<i64> = OutputTag::new("late");
    let late_in_fn = late.clone();
    let main = env
        .from_collection(vec![1i64, 2, 3])
        .process(|v: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>| out.collect_with_timestamp(v, v + 100))
        .process(move |v: i64, ctx: &mut Context<'_>, _out: &mut Collector<i64>| ctx.output(&late_in_fn, v));
    let side = main
        .get_side_output(&late)
        .process(|v: i64, ctx: &mut Context<'_>, out: &mut Collector<(i64, Option<i64>)>| {
            out.collect((v, ctx.timestamp()))
        })
        .collect();
    let nothing = main.collect();
    crate::support::run(&env, "side output timestamps").unwrap();
    assert_eq!(side.take(), vec![(1, Some(101)), (2, Some(102)), (3, Some(103))]);
    assert_eq!(nothing.take(), Vec::<i64>::new());
}

/// Counts its subtask's records and emits the count at end of input.
#[derive(Clone, Default)]
struct CountAtEnd {
    subtask: usize,
    count: i64,
}

impl ProcessFunction<i64, (usize, i64)> for CountAtEnd {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.subtask = ctx.index_of_this_subtask();
    }

    fn process_element(&mut self, _value: i64, _ctx: &mut Context<'_>, _out: &mut Collector<(usize, i64)>) {
        self.count += 1;
    }

    fn finish(&mut self, out: &mut Collector<(usize, i64)>) {
        out.collect((self.subtask, self.count));
    }
}

#[test]
fn process_function_open_and_finish_run_once_per_subtask() {
    // Subtask 0 reads 1..=5, subtask 1 reads 6..=11.
    let env = env(2);
    let stream = env.generate_sequence(1, 11).process(CountAtEnd::default());
    assert_eq!(sorted(collect(&env, stream)), vec![(0, 5), (1, 6)]);
}

#[test]
fn union_of_three_streams_has_every_record_of_each() {
    let env = env(2);
    let a = env.from_collection(vec![1i64, 2, 3]);
    let b = env.generate_sequence(10, 13);
    let c = env.from_iter((100..102i64).map(|x| x * 2));
    let stream = a.union([b, c]).map(|x: i64| x + 1);
    assert_eq!(sorted(collect(&env, stream)), vec![2, 3, 4, 11, 12, 13, 14, 201, 203]);
}

#[test]
fn union_of_a_stream_with_a_transformed_copy_of_itself() {
    let env = env(1);
    let source = env.from_collection(vec![1i64, 2, 3]);
    let doubled = source.clone().map(|x: i64| x * 10);
    let stream = source.union([doubled]);
    assert_eq!(sorted(collect(&env, stream)), vec![1, 2, 3, 10, 20, 30]);
}

#[test]
fn union_of_a_main_output_with_its_own_side_output() {
    let env = env(1);
    let tenfold: OutputTag<i64> = OutputTag::new("tenfold");
    let tag = tenfold.clone();
    let main = env.from_collection(vec![1i64, 2, 3]).process(
        move |v: i64, ctx: &mut Context<'_>, out: &mut Collector<i64>| {
            out.collect(v);
            ctx.output(&tag, v * 10);
        },
    );
    let side = main.get_side_output(&tenfold);
    let stream = main.union([side]).map(|x: i64| x + 1);
    assert_eq!(sorted(collect(&env, stream)), vec![2, 3, 4, 11, 21, 31]);
}

#[test]
fn union_of_a_stream_with_itself_has_every_record_twice() {
    // Flink: "if you union a data stream with itself you get each element twice".
    let env = env(1);
    let source = env.from_collection(vec![1i64, 2, 3]);
    let handle = source.clone().union([source]).map(|x: i64| x).collect();
    let client = env.execute_async("self union").unwrap();
    let ended =
        crate::support::eventually(&client, std::time::Duration::from_secs(10), |s| s.status.is_globally_terminal());
    if !ended {
        client.cancel();
    }
    assert!(ended, "the job did not end: {:?}", client.snapshot());
    client.wait_for_result().unwrap();
    assert_eq!(sorted(handle.take()), vec![1, 1, 2, 2, 3, 3]);
}

#[test]
fn side_outputs_of_operators_that_emit_none_are_empty_and_end() {
    let env = env(2);
    let tag: OutputTag<i64> = OutputTag::new("never");
    let source = env.generate_sequence(1, 10);
    let from_source = source.get_side_output(&tag).collect();
    let mapped = source.map(|x: i64| x + 1);
    let from_map = mapped.get_side_output(&tag).rebalance().collect();
    let main = mapped.collect();
    crate::support::run(&env, "empty side outputs").unwrap();
    assert_eq!(sorted(main.take()), (2..=11).collect::<Vec<_>>());
    assert_eq!(from_source.take(), Vec::<i64>::new());
    assert_eq!(from_map.take(), Vec::<i64>::new());
}

#[test]
fn a_huge_flat_map_output_crosses_a_channel_complete_and_in_order() {
    // One input record becomes far more records than a buffer holds; the writer
    // cuts them into buffers, and one channel keeps their order.
    let env = env(1);
    let stream = env
        .from_collection(vec![30_000i64, 3, 20_000])
        .flat_map(|n: i64| (0..n).map(move |i| (n, i)).collect::<Vec<_>>())
        .map(|r: (i64, i64)| r)
        .disable_chaining();
    let expected: Vec<(i64, i64)> =
        [30_000i64, 3, 20_000].into_iter().flat_map(|n| (0..n).map(move |i| (n, i))).collect();
    let out = collect(&env, stream);
    assert!(out == expected, "{} records instead of {}", out.len(), expected.len());
}
