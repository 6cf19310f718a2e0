//! Golden tests of the Nexmark queries (`brook::jobs::nexmark`): each query runs
//! over a small hand-written event list, in the listed order, with a watermark
//! (`max dateTime − 4 s`) after every event, so lateness depends only on the
//! input. Expected rows are worked out by hand next to each input. Every query
//! runs at parallelism 1 and 4: insert-only results must be equal as
//! multisets; changelogs must be equal exactly at parallelism 1, and at 4 equal
//! as multisets where each key's changes come from one operator, or else equal
//! once materialized.

mod aggregations;
mod cli;
mod generated;
mod joins;
mod stateless;
mod windows;

use brook::api::{CollectHandle, Configuration, StreamExecutionEnvironment};
use brook::jobs::nexmark::{QuerySink, build_query, csv::materialize, with_nexmark_watermarks};
use brook_connectors::nexmark::{Auction, Bid, Event, Person};

/// The URL of most test bids; its directories are `a`, `b`, `c`.
pub const URL: &str = "https://www.nexmark.com/a/b/c/item.htm?query=1";

pub fn bid(auction: i64, bidder: i64, price: i64, date_time: i64) -> Event {
    bid_with(auction, bidder, price, date_time, "Google", URL, "e")
}

pub fn bid_with(auction: i64, bidder: i64, price: i64, date_time: i64, channel: &str, url: &str, extra: &str) -> Event {
    Event::Bid(Bid {
        auction,
        bidder,
        price,
        channel: channel.to_string(),
        url: url.to_string(),
        date_time,
        extra: extra.to_string(),
    })
}

/// An auction named `item<id>`, described `desc`, initial bid 10, reserve 20, extra `ae`.
pub fn auction(id: i64, seller: i64, category: i64, date_time: i64, expires: i64) -> Event {
    Event::Auction(Auction {
        id,
        item_name: format!("item{id}"),
        description: "desc".to_string(),
        initial_bid: 10,
        reserve: 20,
        date_time,
        expires,
        seller,
        category,
        extra: "ae".to_string(),
    })
}

pub fn person(id: i64, name: &str, city: &str, state: &str, date_time: i64) -> Event {
    Event::Person(Person {
        id,
        name: name.to_string(),
        email_address: "p@x.com".to_string(),
        credit_card: "0000 1111 2222 3333".to_string(),
        city: city.to_string(),
        state: state.to_string(),
        date_time,
        extra: "pe".to_string(),
    })
}

/// A local environment with enough slots for `parallelism`.
pub fn environment(parallelism: usize) -> StreamExecutionEnvironment {
    let mut config = Configuration::new();
    config.set_dynamic(&format!("taskmanager.numberOfTaskSlots={parallelism}")).expect("a valid option");
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(parallelism);
    env
}

/// The CSV lines of `query` over `events` at `parallelism`, in arrival order at the sink.
pub fn run(query: &str, events: &[Event], parallelism: usize) -> Vec<String> {
    let env = environment(parallelism);
    let source = env.from_collection(events.to_vec()).set_parallelism(1);
    let handle = CollectHandle::new();
    build_query(&env, query, with_nexmark_watermarks(source, true), QuerySink::Collect(handle.clone()))
        .expect("a known query");
    env.execute(&format!("nexmark {query}")).expect("the query runs");
    handle.take()
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

/// An insert-only query: the rows (in any order) at parallelism 1 and 4.
pub fn assert_rows(query: &str, events: &[Event], expected: &[String]) {
    let expected = sorted(expected.to_vec());
    assert_eq!(sorted(run(query, events, 1)), expected, "{query} at parallelism 1");
    assert_eq!(sorted(run(query, events, 4)), expected, "{query} at parallelism 4");
}

pub fn assert_rows_str(query: &str, events: &[Event], expected: &[&str]) {
    assert_rows(query, events, &owned(expected));
}

/// How a changelog at parallelism 4 is compared with the expected one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AtFour {
    /// Each key's changes come from one operator: the same lines, in some order.
    SameLines,
    /// Several upstream subtasks feed one key: the same final rows.
    SameResult,
}

/// An updating query: the exact changelog at parallelism 1; at 4 as `at_four` says.
pub fn assert_changelog(query: &str, events: &[Event], expected: &[String], at_four: AtFour) {
    assert_eq!(run(query, events, 1), expected, "{query} at parallelism 1");
    let four = run(query, events, 4);
    match at_four {
        AtFour::SameLines => assert_eq!(sorted(four), sorted(expected.to_vec()), "{query} at parallelism 4"),
        AtFour::SameResult => {
            assert_eq!(materialize(&four), materialize(expected), "{query} at parallelism 4, materialized")
        }
    }
}

pub fn assert_changelog_str(query: &str, events: &[Event], expected: &[&str], at_four: AtFour) {
    assert_changelog(query, events, &owned(expected), at_four);
}

#[test]
fn an_unknown_query_is_an_error_listing_the_known_ones() {
    let env = StreamExecutionEnvironment::get_execution_environment();
    let events = env.from_collection(vec![bid(1, 1, 1, 1)]);
    let err = build_query(&env, "q99", events, QuerySink::Blackhole).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown Nexmark query 'q99'; known queries are: q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, \
         q13, q14, q15, q16, q17, q18, q19, q20, q21, q22"
    );
}
