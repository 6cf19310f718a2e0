//! Keyed timers of KeyedProcessFunction: event time and processing time.
//!
//! Without a watermark strategy, event time advances only at end of input
//! (`Watermark::MAX`), which fires every event-time timer — in timestamp order per
//! subtask, each (key, time) once.

use crate::support::{collect, env, per_key, run};
use brook_api::{Collector, Context, KeyedContext, KeyedProcessFunction, TimeDomain};
use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

/// Registers an event-time timer at each record's value; on a timer emits
/// (key, timer time, timestamp of the output record).
#[derive(Clone)]
struct TimerPerRecord;

impl KeyedProcessFunction<String, (String, i64), (String, i64, String)> for TimerPerRecord {
    fn process_element(
        &mut self,
        (key, at): (String, i64),
        ctx: &mut KeyedContext<'_, String>,
        _out: &mut Collector<(String, i64, String)>,
    ) {
        let _ = key;
        ctx.timer_service().register_event_time_timer(at);
        if at == 99 {
            // deleted again: must not fire
            ctx.timer_service().delete_event_time_timer(99);
        }
    }

    fn on_timer(
        &mut self,
        timestamp: i64,
        ctx: &mut KeyedContext<'_, String>,
        out: &mut Collector<(String, i64, String)>,
    ) {
        assert_eq!(ctx.time_domain(), Some(TimeDomain::EventTime));
        assert_eq!(ctx.timestamp(), Some(timestamp), "an event-time timer's context carries its time");
        out.collect((ctx.current_key().clone(), timestamp, format!("{:?}", ctx.time_domain())));
        if timestamp == 30 {
            // A timer registered while firing, at or before the watermark, fires in the same advance.
            ctx.timer_service().register_event_time_timer(31);
        }
    }
}

fn input() -> Vec<(String, i64)> {
    [("a", 30), ("b", 20), ("a", 10), ("a", 30), ("b", 5), ("a", 99), ("c", 7)]
        .iter()
        .map(|(k, t)| (k.to_string(), *t))
        .collect()
}

#[test]
fn event_time_timers_fire_once_in_order_at_end_of_input() {
    for p in [1, 2] {
        let env = env(p);
        let fired = env.from_collection(input()).key_by(|(k, _): &(String, i64)| k.clone()).process(TimerPerRecord);
        let out = collect(&env, fired);
        let by_key = per_key(out.iter().map(|(k, t, _)| (k.clone(), *t)));
        assert_eq!(
            by_key.get("a"),
            Some(&vec![10, 30, 31]),
            "p={p}: duplicates fire once, deleted never, chained timers too"
        );
        assert_eq!(by_key.get("b"), Some(&vec![5, 20]));
        assert_eq!(by_key.get("c"), Some(&vec![7]));
        assert_eq!(out.len(), 6);
        assert!(out.iter().all(|(_, _, d)| d == "Some(EventTime)"));
    }
}

#[test]
fn results_of_an_event_time_timer_carry_its_timestamp() {
    let env = env(2);
    let stamped = env
        .from_collection(input())
        .key_by(|(k, _): &(String, i64)| k.clone())
        .process(TimerPerRecord)
        .rebalance()
        .process(
            |(k, t, _): (String, i64, String),
             ctx: &mut Context<'_>,
             out: &mut Collector<(String, i64, Option<i64>)>| { out.collect((k, t, ctx.timestamp())) },
        );
    let out = collect(&env, stamped);
    assert_eq!(out.len(), 6);
    assert!(out.iter().all(|(_, t, ts)| *ts == Some(*t)), "{out:?}");
}

/// Registers a processing-time timer 20 ms after each key's first record.
#[derive(Clone)]
struct Reminder;

impl KeyedProcessFunction<String, String, String> for Reminder {
    fn process_element(&mut self, line: String, ctx: &mut KeyedContext<'_, String>, _out: &mut Collector<String>) {
        let _ = line;
        let now = ctx.timer_service().current_processing_time();
        ctx.timer_service().register_processing_time_timer(now + 20);
    }

    fn on_timer(&mut self, _timestamp: i64, ctx: &mut KeyedContext<'_, String>, out: &mut Collector<String>) {
        assert_eq!(ctx.time_domain(), Some(TimeDomain::ProcessingTime));
        assert_eq!(ctx.timestamp(), None, "processing-time timers carry no event timestamp");
        out.collect(format!("reminder {}", ctx.current_key()));
    }
}

#[test]
fn processing_time_timers_fire_on_the_task_clock() {
    // The socket stays open for a second after the lines, so the job is still
    // running when the 20 ms timers come due.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"x\ny\nx\n").unwrap();
        std::thread::sleep(Duration::from_millis(1000));
    });
    let env = env(2);
    let reminders = env.socket_text_stream("127.0.0.1", port).key_by(|l: &String| l.clone()).process(Reminder);
    let mut out = collect(&env, reminders);
    out.sort();
    // x registered two timers at (nearly always) different milliseconds: each fires.
    out.dedup();
    assert_eq!(out, vec!["reminder x".to_string(), "reminder y".to_string()]);
}

#[derive(Clone)]
struct PanicsOnTimer;

impl KeyedProcessFunction<i64, i64, i64> for PanicsOnTimer {
    fn process_element(&mut self, v: i64, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<i64>) {
        ctx.timer_service().register_event_time_timer(v);
    }

    fn on_timer(&mut self, timestamp: i64, _ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<i64>) {
        panic!("timer {timestamp} cannot be handled");
    }
}

#[test]
fn a_panic_in_on_timer_fails_the_job_naming_the_operator() {
    let env = env(1);
    env.generate_sequence(1, 3).key_by(|v: &i64| *v).process(PanicsOnTimer).name("Alarm").discard();
    let message = run(&env, "timer panics").unwrap_err().to_string();
    assert!(message.contains("timer 1 cannot be handled"), "{message}");
    assert!(message.contains("Alarm"), "{message}");
}

/// Orders (id, due time) and shipments (id): an order's timer at its due time is
/// deleted when its shipment arrives; the timers that still fire are late orders.
/// A shipment may overtake its order (the two inputs race), so shipped ids are
/// remembered (in the function's own per-subtask set, until keyed state exists).
#[derive(Clone, Default)]
struct LateOrders {
    shipped: std::collections::HashSet<i64>,
}

impl brook_api::KeyedCoProcessFunction<i64, (i64, i64), i64, String> for LateOrders {
    fn process_element1(
        &mut self,
        (id, due): (i64, i64),
        ctx: &mut KeyedContext<'_, i64>,
        _out: &mut Collector<String>,
    ) {
        if !self.shipped.contains(&id) {
            ctx.timer_service().register_event_time_timer(due);
        }
    }

    fn process_element2(&mut self, id: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<String>) {
        assert_eq!(*ctx.current_key(), id);
        self.shipped.insert(id);
        ctx.timer_service().delete_event_time_timer(100 + id);
        out.collect(format!("shipped {id}"));
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<String>) {
        assert_eq!(ctx.time_domain(), Some(TimeDomain::EventTime));
        out.collect(format!("late {} at {timestamp}", ctx.current_key()));
    }
}

#[test]
fn keyed_co_process_functions_share_the_keys_timers() {
    let env = env(2);
    let orders = env.from_collection((0..6i64).map(|id| (id, 100 + id)).collect::<Vec<_>>());
    let shipments = env.from_collection(vec![0i64, 2, 4]);
    let out = orders.connect(shipments).key_by(|o: &(i64, i64)| o.0, |s: &i64| *s).process(LateOrders::default());
    let mut result = collect(&env, out);
    result.sort();
    assert_eq!(result, vec!["late 1 at 101", "late 3 at 103", "late 5 at 105", "shipped 0", "shipped 2", "shipped 4"]);
}
