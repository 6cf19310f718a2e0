//! Keyed state in KeyedProcessFunction and KeyedCoProcessFunction: value, list,
//! map, reducing and aggregating state, handles from `open`, TTL on the task's
//! clock.
//!
//! Sources have parallelism 1 so that each key's records arrive in input order.

use crate::support::{collect, env, env_with_slots, owner_of, per_key, run, sorted};
use brook_api::state::{AggregateFunction, StateTtlConfig};
use brook_api::{
    AggregatingState, AggregatingStateDescriptor, Collector, Context, KeyedContext, KeyedProcessFunction, ListState,
    ListStateDescriptor, MapState, MapStateDescriptor, ProcessFunction, ReducingState, ReducingStateDescriptor,
    RuntimeContext, ValueState, ValueStateDescriptor,
};
use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

fn words() -> Vec<String> {
    "to be or not to be that is the question to be".split(' ').map(str::to_string).collect()
}

/// Emits (subtask, word, running count of the word).
#[derive(Clone, Default)]
struct CountPerKey {
    count: ValueState<u64>,
}

impl KeyedProcessFunction<String, String, (usize, String, u64)> for CountPerKey {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.count = ctx.get_state(&ValueStateDescriptor::new("count"));
    }

    fn process_element(
        &mut self,
        word: String,
        ctx: &mut KeyedContext<'_, String>,
        out: &mut Collector<(usize, String, u64)>,
    ) {
        let subtask = ctx.runtime_context().index_of_this_subtask();
        let mut count = ctx.state(&self.count);
        let n = count.value().copied().unwrap_or(0) + 1;
        count.update(n);
        out.collect((subtask, word, n));
    }
}

#[test]
fn value_state_keeps_a_running_count_per_key() {
    for p in [1, 4] {
        let env = env_with_slots(p, p);
        let counts = env
            .from_collection(words())
            .set_parallelism(1)
            .key_by(|w: &String| w.clone())
            .process(CountPerKey::default());
        let out = collect(&env, counts);
        assert!(out.iter().all(|(subtask, word, _)| *subtask == owner_of(word.as_str(), p)), "p={p}: {out:?}");
        let by_word = per_key(out.into_iter().map(|(_, w, n)| (w, n)));
        let expected = per_key(
            [
                ("to", 1),
                ("to", 2),
                ("to", 3),
                ("be", 1),
                ("be", 2),
                ("be", 3),
                ("or", 1),
                ("not", 1),
                ("that", 1),
                ("is", 1),
                ("the", 1),
                ("question", 1),
            ]
            .map(|(w, n)| (w.to_string(), n)),
        );
        assert_eq!(by_word, expected, "p={p}");
    }
}

/// Buffers each key's values in list state until an event-time timer (at end of
/// input, as there are no watermarks), then emits them and clears the buffer.
#[derive(Clone, Default)]
struct BufferUntilTimer {
    buffer: ListState<i64>,
}

impl KeyedProcessFunction<String, (String, i64), (String, Vec<i64>)> for BufferUntilTimer {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.buffer = ctx.get_state(&ListStateDescriptor::new("buffer"));
    }

    fn process_element(
        &mut self,
        (_, v): (String, i64),
        ctx: &mut KeyedContext<'_, String>,
        _out: &mut Collector<(String, Vec<i64>)>,
    ) {
        ctx.list_state(&self.buffer).add(v);
        ctx.timer_service().register_event_time_timer(100);
    }

    fn on_timer(
        &mut self,
        _timestamp: i64,
        ctx: &mut KeyedContext<'_, String>,
        out: &mut Collector<(String, Vec<i64>)>,
    ) {
        let key = ctx.current_key().clone();
        let mut buffer = ctx.list_state(&self.buffer);
        let values = buffer.get().to_vec();
        buffer.clear();
        assert!(buffer.get().is_empty());
        out.collect((key, values));
    }
}

#[test]
fn list_state_buffers_until_a_timer_fires() {
    for p in [1, 3] {
        let env = env_with_slots(p, p);
        let input: Vec<(String, i64)> =
            [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 5), ("b", 6)].map(|(k, v)| (k.to_string(), v)).to_vec();
        let flushed = env
            .from_collection(input)
            .set_parallelism(1)
            .key_by(|(k, _): &(String, i64)| k.clone())
            .process(BufferUntilTimer::default());
        let out = sorted(collect(&env, flushed));
        assert_eq!(
            out,
            vec![("a".to_string(), vec![1, 3, 5]), ("b".to_string(), vec![2, 6]), ("c".to_string(), vec![4])],
            "p={p}"
        );
    }
}

/// Per user, the number of clicks per page; a "reset:<page>" click removes the
/// page. At the end (timer) emits the user's pages in order.
#[derive(Clone, Default)]
struct PagesPerUser {
    pages: MapState<String, u32>,
}

impl KeyedProcessFunction<String, (String, String), String> for PagesPerUser {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.pages = ctx.get_state(&MapStateDescriptor::new("pages"));
    }

    fn process_element(
        &mut self,
        (_, page): (String, String),
        ctx: &mut KeyedContext<'_, String>,
        _out: &mut Collector<String>,
    ) {
        let mut pages = ctx.map_state(&self.pages);
        if let Some(reset) = page.strip_prefix("reset:") {
            assert!(pages.contains(reset));
            assert_eq!(pages.remove(reset).map(|n| n > 0), Some(true));
            assert!(!pages.contains(reset));
        } else {
            let n = pages.get(&page).copied().unwrap_or(0);
            pages.put(page, n + 1);
        }
        ctx.timer_service().register_event_time_timer(1);
    }

    fn on_timer(&mut self, _timestamp: i64, ctx: &mut KeyedContext<'_, String>, out: &mut Collector<String>) {
        let user = ctx.current_key().clone();
        let mut pages = ctx.map_state(&self.pages);
        let mut entries: Vec<String> = pages.iter().map(|(page, n)| format!("{page}={n}")).collect();
        entries.sort();
        let total: u32 = pages.values().sum();
        assert_eq!(pages.keys().count(), entries.len());
        out.collect(format!("{user}: {} (total {total}, empty {})", entries.join(" "), pages.is_empty()));
    }
}

#[test]
fn map_state_counts_per_user_and_page() {
    let env = env(2);
    let clicks: Vec<(String, String)> = [
        ("ann", "home"),
        ("bob", "cart"),
        ("ann", "docs"),
        ("ann", "home"),
        ("bob", "home"),
        ("bob", "reset:cart"),
        ("cid", "home"),
        ("cid", "reset:home"),
    ]
    .map(|(u, p)| (u.to_string(), p.to_string()))
    .to_vec();
    let out = env
        .from_collection(clicks)
        .set_parallelism(1)
        .key_by(|(u, _): &(String, String)| u.clone())
        .process(PagesPerUser::default());
    assert_eq!(
        sorted(collect(&env, out)),
        vec![
            "ann: docs=1 home=2 (total 3, empty false)".to_string(),
            "bob: home=1 (total 1, empty false)".to_string(),
            "cid:  (total 0, empty true)".to_string(),
        ]
    );
}

/// Averages `i64`s (integer division).
#[derive(Clone, Copy)]
struct Average;

impl AggregateFunction<i64> for Average {
    type Acc = (i64, i64);
    type Out = i64;

    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }

    fn add(&self, acc: &mut (i64, i64), value: i64) {
        acc.0 += value;
        acc.1 += 1;
    }

    fn get_result(&self, acc: &(i64, i64)) -> i64 {
        acc.0 / acc.1
    }

    fn merge(&self, acc: &mut (i64, i64), other: (i64, i64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
}

/// Emits (key, running max, running average) after each value.
#[derive(Clone, Default)]
struct MaxAndAverage {
    max: ReducingState<i64>,
    average: AggregatingState<i64, (i64, i64), i64>,
}

impl KeyedProcessFunction<i64, (i64, i64), (i64, i64, i64)> for MaxAndAverage {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.max = ctx.get_state(&ReducingStateDescriptor::new("max", |a: i64, b: i64| a.max(b)));
        self.average = ctx.get_state(&AggregatingStateDescriptor::new("average", Average));
    }

    fn process_element(
        &mut self,
        (k, v): (i64, i64),
        ctx: &mut KeyedContext<'_, i64>,
        out: &mut Collector<(i64, i64, i64)>,
    ) {
        ctx.reducing_state(&self.max).add(v);
        ctx.aggregating_state(&self.average).add(v);
        let max = *ctx.reducing_state(&self.max).get().expect("a value was added");
        let average = ctx.aggregating_state(&self.average).get().expect("a value was added");
        out.collect((k, max, average));
    }
}

#[test]
fn reducing_and_aggregating_state_fold_every_value() {
    let env = env_with_slots(4, 4);
    let input: Vec<(i64, i64)> = vec![(1, 10), (2, 5), (1, 30), (2, 1), (1, 20), (3, -4)];
    let out = env
        .from_collection(input)
        .set_parallelism(1)
        .key_by(|(k, _): &(i64, i64)| *k)
        .process(MaxAndAverage::default());
    let by_key = per_key(collect(&env, out).into_iter().map(|(k, max, avg)| (k, (max, avg))));
    assert_eq!(by_key[&1], vec![(10, 10), (30, 20), (30, 20)]);
    assert_eq!(by_key[&2], vec![(5, 5), (5, 3)]);
    assert_eq!(by_key[&3], vec![(-4, -4)]);
}

/// Emits (word, whether a value was still stored for it): a TTL of 300 ms of
/// processing time.
#[derive(Clone, Default)]
struct SeenRecently {
    seen: ValueState<bool>,
}

impl KeyedProcessFunction<String, String, (String, bool)> for SeenRecently {
    fn open(&mut self, ctx: &RuntimeContext) {
        let ttl = StateTtlConfig::new_builder(Duration::from_millis(300)).build();
        self.seen = ctx.get_state(&ValueStateDescriptor::new("seen").enable_time_to_live(ttl));
    }

    fn process_element(
        &mut self,
        word: String,
        ctx: &mut KeyedContext<'_, String>,
        out: &mut Collector<(String, bool)>,
    ) {
        let mut seen = ctx.state(&self.seen);
        let recently = seen.value().is_some();
        seen.update(true);
        out.collect((word, recently));
    }
}

#[test]
fn state_with_a_ttl_expires_on_the_task_clock() {
    // "b" twice at once: the second sees the first. "a" again a second later: expired.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"a\nb\nb\n").unwrap();
        std::thread::sleep(Duration::from_millis(1000));
        conn.write_all(b"a\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
    });
    let env = env(2);
    let out = env.socket_text_stream("127.0.0.1", port).key_by(|w: &String| w.clone()).process(SeenRecently::default());
    let out = per_key(collect(&env, out));
    assert_eq!(out["a"], vec![false, false], "the first 'a' expired after 300 ms");
    assert_eq!(out["b"], vec![false, true]);
}

/// Orders (id, due) and shipments (id) on one key: the shipped flag is keyed
/// state both inputs see, so a shipment that overtakes its order still counts.
#[derive(Clone, Default)]
struct LateOrders {
    shipped: ValueState<bool>,
}

impl brook_api::KeyedCoProcessFunction<i64, (i64, i64), i64, String> for LateOrders {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.shipped = ctx.get_state(&ValueStateDescriptor::new("shipped"));
    }

    fn process_element1(
        &mut self,
        (_, due): (i64, i64),
        ctx: &mut KeyedContext<'_, i64>,
        _out: &mut Collector<String>,
    ) {
        if ctx.state(&self.shipped).value().is_none() {
            ctx.timer_service().register_event_time_timer(due);
        }
    }

    fn process_element2(&mut self, id: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<String>) {
        ctx.state(&self.shipped).update(true);
        ctx.timer_service().delete_event_time_timer(100 + id);
        out.collect(format!("shipped {id}"));
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<String>) {
        if ctx.state(&self.shipped).value().is_none() {
            out.collect(format!("late {} at {timestamp}", ctx.current_key()));
        }
    }
}

#[test]
fn keyed_co_process_functions_share_keyed_state_between_inputs() {
    let env = env(2);
    let orders = env.from_collection((0..6i64).map(|id| (id, 100 + id)).collect::<Vec<_>>());
    let shipments = env.from_collection(vec![0i64, 2, 4]);
    let out = orders.connect(shipments).key_by(|o: &(i64, i64)| o.0, |s: &i64| *s).process(LateOrders::default());
    assert_eq!(
        sorted(collect(&env, out)),
        vec!["late 1 at 101", "late 3 at 103", "late 5 at 105", "shipped 0", "shipped 2", "shipped 4"]
    );
}

/// Asks for keyed state where there is none.
#[derive(Clone)]
struct NotKeyed;

impl ProcessFunction<i64, i64> for NotKeyed {
    fn open(&mut self, ctx: &RuntimeContext) {
        let _: ValueState<i64> = ctx.get_state(&ValueStateDescriptor::new("nope"));
    }

    fn process_element(&mut self, v: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>) {
        out.collect(v);
    }
}

/// Registers one name twice with different types.
#[derive(Clone)]
struct TwoTypesOneName;

impl KeyedProcessFunction<i64, i64, i64> for TwoTypesOneName {
    fn open(&mut self, ctx: &RuntimeContext) {
        let _: ValueState<i64> = ctx.get_state(&ValueStateDescriptor::new("total"));
        let _: ValueState<String> = ctx.get_state(&ValueStateDescriptor::new("total"));
    }

    fn process_element(&mut self, v: i64, _ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<i64>) {
        out.collect(v);
    }
}

#[test]
fn misused_state_fails_the_job_with_a_message_that_says_what_to_do() {
    let plain = env(1);
    plain.generate_sequence(1, 3).process(NotKeyed).name("Plain").discard();
    let message = run(&plain, "not keyed").unwrap_err().to_string();
    assert!(
        message.contains("operator 'Plain' asked for keyed state 'nope' outside the open() of a keyed function"),
        "{message}"
    );

    let keyed = env(1);
    keyed.generate_sequence(1, 3).key_by(|v: &i64| *v).process(TwoTypesOneName).name("Totals").discard();
    let message = run(&keyed, "two types").unwrap_err().to_string();
    assert!(
        message.contains("value state 'total' of operator 'Totals' is registered with type i64 and cannot be registered again with type alloc::string::String"),
        "{message}"
    );
}
