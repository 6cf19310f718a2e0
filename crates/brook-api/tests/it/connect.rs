//! Connected streams: co_map, co_flat_map, a CoProcessFunction, and key_by on both inputs.

use crate::support::{collect, env, owner_of, sorted};
use brook_api::{CoProcessFunction, Collector, Context, OutputTag, RuntimeContext};
use std::collections::HashMap;

#[test]
fn co_map_applies_one_function_per_input() {
    let env = env(2);
    let numbers = env.generate_sequence(1, 4);
    let words = env.from_collection(vec!["x".to_string(), "yy".to_string()]);
    let stream = numbers.connect(words).co_map(|n: i64| format!("n{n}"), |w: String| format!("w{}", w.len()));
    assert_eq!(sorted(collect(&env, stream)), vec!["n1", "n2", "n3", "n4", "w1", "w2"]);
}

#[test]
fn co_flat_map_emits_zero_or_more_per_record_of_either_input() {
    let env = env(2);
    let numbers = env.from_collection(vec![0i64, 1, 3]);
    let lines = env.from_collection(vec!["a b".to_string(), String::new()]);
    let stream = numbers.connect(lines).co_flat_map(
        |n: i64| (0..n).map(|i| format!("{n}:{i}")).collect::<Vec<_>>(),
        |l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>(),
    );
    assert_eq!(sorted(collect(&env, stream)), vec!["1:0", "3:0", "3:1", "3:2", "a", "b"]);
}

#[test]
fn co_process_sees_both_inputs_with_context_and_subtask() {
    let env = env(1);
    let first = env.from_collection(vec![1i64, 2]);
    let second = env.from_collection(vec![true]);
    let stream = first.connect(second).process(CoTagger);
    assert_eq!(sorted(collect(&env, stream)), vec!["first 1 @0/1", "first 2 @0/1", "second true @0/1"]);
}

#[derive(Clone)]
struct CoTagger;

impl CoProcessFunction<i64, bool, String> for CoTagger {
    fn process_element1(&mut self, value: i64, ctx: &mut Context<'_>, out: &mut Collector<String>) {
        let rc = ctx.runtime_context();
        out.collect(format!("first {value} @{}/{}", rc.index_of_this_subtask(), rc.number_of_parallel_subtasks()));
    }

    fn process_element2(&mut self, value: bool, ctx: &mut Context<'_>, out: &mut Collector<String>) {
        let rc = ctx.runtime_context();
        out.collect(format!("second {value} @{}/{}", rc.index_of_this_subtask(), rc.number_of_parallel_subtasks()));
    }
}

/// Joins orders with the customer of the same id, whichever arrives first.
/// Correct only if both inputs are partitioned by the same key.
#[derive(Clone, Default)]
struct OrderCustomerJoin {
    subtask: usize,
    customers: HashMap<i64, String>,
    waiting_orders: HashMap<i64, Vec<String>>,
}

impl CoProcessFunction<(i64, String), (i64, String), (String, String, usize)> for OrderCustomerJoin {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.subtask = ctx.index_of_this_subtask();
    }

    fn process_element1(
        &mut self,
        (customer, item): (i64, String),
        _ctx: &mut Context<'_>,
        out: &mut Collector<(String, String, usize)>,
    ) {
        match self.customers.get(&customer) {
            Some(name) => out.collect((name.clone(), item, self.subtask)),
            None => self.waiting_orders.entry(customer).or_default().push(item),
        }
    }

    fn process_element2(
        &mut self,
        (customer, name): (i64, String),
        _ctx: &mut Context<'_>,
        out: &mut Collector<(String, String, usize)>,
    ) {
        for item in self.waiting_orders.remove(&customer).unwrap_or_default() {
            out.collect((name.clone(), item, self.subtask));
        }
        self.customers.insert(customer, name);
    }
}

#[test]
fn keyed_connected_streams_bring_equal_keys_to_one_subtask() {
    let env = env(2);
    let orders: Vec<(i64, String)> = (0..60).map(|i| (i % 10, format!("item{i}"))).collect();
    let customers: Vec<(i64, String)> = (0..10).map(|c| (c, format!("customer{c}"))).collect();
    // Both inputs are read in parallel (rebalanced over 2 subtasks) before key_by.
    let order_stream = env.from_collection(orders.clone()).rebalance().map(|o: (i64, String)| o);
    let customer_stream = env.from_collection(customers).rebalance().map(|c: (i64, String)| c);
    let stream = order_stream
        .connect(customer_stream)
        .key_by(|o: &(i64, String)| o.0, |c: &(i64, String)| c.0)
        .process(OrderCustomerJoin::default());
    let expected: Vec<(String, String, usize)> =
        orders.iter().map(|(c, item)| (format!("customer{c}"), item.clone(), owner_of(c, 2))).collect();
    let out = sorted(collect(&env, stream));
    assert_eq!(out, sorted(expected));
    assert!(out.iter().any(|r| r.2 == 0) && out.iter().any(|r| r.2 == 1), "both subtasks join some keys");
}

#[test]

fn two_input_operators_count_the_records_of_both_inputs() {
    let env = env(1);
    let first = env.from_collection(vec![1i64, 2, 3]);
    let second = env.from_collection(vec![10i64, 20]);
    first.connect(second).co_map(|x: i64| x, |y: i64| y).name("Merge").discard();
    let result = crate::support::run(&env, "two-input metrics").unwrap();
    assert_eq!(result.operator_records["Sink: Discard"], (5, 0));
    assert_eq!(result.operator_records["Merge"], (5, 5));
}

/// Passes numbers on and sends words to a side output.
#[derive(Clone)]
struct WordsAside(OutputTag<String>);

impl CoProcessFunction<i64, String, i64> for WordsAside {
    fn process_element1(&mut self, value: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>) {
        out.collect(value);
    }

    fn process_element2(&mut self, value: String, ctx: &mut Context<'_>, _out: &mut Collector<i64>) {
        ctx.output(&self.0, value);
    }
}

#[test]
fn co_process_emits_to_side_outputs() {
    let env = env(2);
    let words: OutputTag<String> = OutputTag::new("words");
    let numbers = env.generate_sequence(1, 5);
    let text = env.from_collection(vec!["x".to_string(), "y".to_string()]);
    let main = numbers.connect(text).process(WordsAside(words.clone()));
    let side = main.get_side_output(&words).collect();
    let handle = main.collect();
    crate::support::run(&env, "co-process side output").unwrap();
    assert_eq!(sorted(handle.take()), vec![1, 2, 3, 4, 5]);
    assert_eq!(sorted(side.take()), vec!["x", "y"]);
}
