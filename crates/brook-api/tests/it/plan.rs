//! Operator chaining, as `get_execution_plan` shows it: one vertex per chain, with
//! the ship strategy of each network input.

use crate::support::{collect, env, sorted};
use brook_api::StreamExecutionEnvironment;
use serde_json::Value;

fn plan(env: &StreamExecutionEnvironment) -> Value {
    serde_json::from_str(&env.get_execution_plan().unwrap()).unwrap()
}

/// The operator names of each vertex (chain), in plan order.
fn chains(plan: &Value) -> Vec<Vec<String>> {
    plan["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["operators"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect())
        .collect()
}

/// The vertex whose chain starts with `head`.
fn vertex<'a>(plan: &'a Value, head: &str) -> &'a Value {
    plan["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["operators"][0]["name"] == head)
        .unwrap_or_else(|| panic!("no chain starts with {head}: {plan:#}"))
}

/// The ship strategies of a vertex's network inputs.
fn input_strategies(vertex: &Value) -> Vec<String> {
    vertex["inputs"].as_array().unwrap().iter().map(|i| i["ship_strategy"].as_str().unwrap().to_string()).collect()
}

fn names(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

#[test]
fn map_and_filter_after_a_source_of_equal_parallelism_form_one_chain() {
    let env = env(2);
    env.generate_sequence(1, 10).map(|x: i64| x).name("m").filter(|_: &i64| true).name("f").discard();
    let plan = plan(&env);
    assert_eq!(chains(&plan), vec![names(&["Source: Sequence Source", "m", "f", "Sink: Discard"])]);
    let v = vertex(&plan, "Source: Sequence Source");
    assert_eq!(v["name"], "Source: Sequence Source -> m -> f -> Sink: Discard");
    assert_eq!(v["parallelism"], 2);
    assert_eq!(input_strategies(v), Vec::<String>::new());
    assert_eq!(plan["type"], "STREAMING");
    assert_eq!(plan["nodes"].as_array().unwrap().len(), 4);
}

#[test]
fn key_by_breaks_the_chain_with_a_hash_edge() {
    let env = env(2);
    env.generate_sequence(1, 10)
        .map(|x: i64| (x % 2, x))
        .name("m")
        .key_by(|(k, _): &(i64, i64)| *k)
        .sum(|(_, v): &mut (i64, i64)| v)
        .name("s")
        .discard();
    let plan = plan(&env);
    assert_eq!(chains(&plan), vec![names(&["Source: Sequence Source", "m"]), names(&["s", "Sink: Discard"])]);
    assert_eq!(input_strategies(vertex(&plan, "s")), vec!["HASH"]);
    let node = plan["nodes"].as_array().unwrap().iter().find(|n| n["contents"] == "s").unwrap();
    assert_eq!(node["predecessors"][0]["ship_strategy"], "HASH");
}

#[test]
fn disable_chaining_puts_an_operator_in_a_task_of_its_own() {
    let env = env(2);
    env.generate_sequence(1, 10)
        .map(|x: i64| x)
        .name("m")
        .filter(|_: &i64| true)
        .name("f")
        .disable_chaining()
        .discard();
    let plan = plan(&env);
    assert_eq!(chains(&plan), vec![names(&["Source: Sequence Source", "m"]), names(&["f"]), names(&["Sink: Discard"])]);
    assert_eq!(input_strategies(vertex(&plan, "f")), vec!["FORWARD"]);
    assert_eq!(input_strategies(vertex(&plan, "Sink: Discard")), vec!["FORWARD"]);
}

#[test]
fn start_new_chain_starts_a_chain_that_successors_join() {
    let env = env(2);
    env.generate_sequence(1, 10).map(|x: i64| x).name("m").filter(|_: &i64| true).name("f").start_new_chain().discard();
    let plan = plan(&env);
    assert_eq!(chains(&plan), vec![names(&["Source: Sequence Source", "m"]), names(&["f", "Sink: Discard"])]);
    assert_eq!(input_strategies(vertex(&plan, "f")), vec!["FORWARD"]);
}

#[test]
fn disabling_operator_chaining_makes_one_vertex_per_operator() {
    let env = env(2);
    env.disable_operator_chaining();
    env.generate_sequence(1, 10).map(|x: i64| x).name("m").filter(|_: &i64| true).name("f").discard();
    let plan = plan(&env);
    assert_eq!(
        chains(&plan),
        vec![names(&["Source: Sequence Source"]), names(&["m"]), names(&["f"]), names(&["Sink: Discard"])]
    );
    // The job (with this stream added) still runs, unchained.
    let stream = env.generate_sequence(1, 10).map(|x: i64| x * 2).filter(|x: &i64| *x > 10);
    assert_eq!(sorted(collect(&env, stream)), vec![12, 14, 16, 18, 20]);
}

#[test]
fn a_change_of_parallelism_breaks_the_chain_with_a_rebalance_edge() {
    let env = env(2);
    env.generate_sequence(1, 10).map(|x: i64| x).name("m").set_parallelism(1).discard().set_parallelism(1);
    env.generate_sequence(1, 10).map(|x: i64| x).name("m2").set_parallelism(1).discard().name("wide sink");
    let plan = plan(&env);
    assert_eq!(
        chains(&plan),
        vec![
            names(&["Source: Sequence Source"]),
            names(&["m", "Sink: Discard"]),
            names(&["Source: Sequence Source"]),
            names(&["m2"]),
            names(&["wide sink"]),
        ]
    );
    // The sink takes the environment's parallelism (2) again, so m2 rebalances to it.
    assert_eq!(input_strategies(vertex(&plan, "wide sink")), vec!["REBALANCE"]);
    let m = vertex(&plan, "m");
    assert_eq!(m["parallelism"], 1);
    assert_eq!(input_strategies(m), vec!["REBALANCE"]);
}

#[test]
fn a_union_input_is_not_chained() {
    let env = env(1);
    let a = env.from_collection(vec![1i64]);
    let b = env.from_collection(vec![2i64]);
    a.union([b]).map(|x: i64| x).name("m").discard();
    let plan = plan(&env);
    assert_eq!(
        chains(&plan),
        vec![
            names(&["Source: Collection Source"]),
            names(&["Source: Collection Source"]),
            names(&["m", "Sink: Discard"])
        ]
    );
    assert_eq!(input_strategies(vertex(&plan, "m")), vec!["FORWARD", "FORWARD"]);
}

#[test]
fn the_plan_shows_uids_parallelism_and_batch_mode() {
    let env = env(2);
    env.set_runtime_mode(brook_api::RuntimeMode::Batch);
    env.generate_sequence(1, 10).uid("numbers").map(|x: i64| x).name("m").uid("mapper").set_parallelism(1).discard();
    let plan = plan(&env);
    assert_eq!(plan["type"], "BATCH");
    let nodes = plan["nodes"].as_array().unwrap();
    let m = nodes.iter().find(|n| n["contents"] == "m").unwrap();
    assert_eq!(
        (m["uid"].as_str(), m["parallelism"].as_u64(), m["max_parallelism"].as_u64()),
        (Some("mapper"), Some(1), Some(128))
    );
    let src = nodes.iter().find(|n| n["pact"] == "Data Source").unwrap();
    assert_eq!((src["uid"].as_str(), src["parallelism"].as_u64()), (Some("numbers"), Some(2)));
}

#[test]
fn getting_the_plan_does_not_consume_the_program() {
    let env = env(2);
    let stream = env.generate_sequence(1, 5).map(|x: i64| x * x);
    let handle = stream.collect();
    let first = env.get_execution_plan().unwrap();
    assert_eq!(env.get_execution_plan().unwrap(), first);
    crate::support::run(&env, "after plan").unwrap();
    assert_eq!(sorted(handle.take()), vec![1, 4, 9, 16, 25]);
}

#[test]
fn a_different_slot_sharing_group_breaks_the_chain() {
    let env = env(2);
    env.generate_sequence(1, 10).map(|x: i64| x).name("m").slot_sharing_group("other").discard();
    let plan = plan(&env);
    // The sink inherits the group of its input, so it chains to the map.
    assert_eq!(chains(&plan), vec![names(&["Source: Sequence Source"]), names(&["m", "Sink: Discard"])]);
    let m = vertex(&plan, "m");
    assert_eq!(m["slot_sharing_group"], "other");
    assert_eq!(input_strategies(m), vec!["FORWARD"]);
}
