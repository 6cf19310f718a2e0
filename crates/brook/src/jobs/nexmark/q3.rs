//! q3 — local item suggestion: sellers in OR, ID or CA and their category-10
//! auctions: `auction JOIN person ON seller = id` with both filters pushed below
//! the join.
//!
//! A regular (unbounded) inner join keyed by person id. Person ids are unique,
//! so once a person is known its auctions join on arrival and need not be kept;
//! auctions that arrive first wait for their seller. Rows are insert-only.

use super::csv::{CsvLine, CsvRow};
use super::streams::{Either, OneInput, view};
use brook_api::{
    Collector, DataStream, KeyedCoProcessFunction, KeyedContext, ListState, ListStateDescriptor, RuntimeContext,
    ValueState, ValueStateDescriptor,
};
use brook_connectors::nexmark::{Auction, Event};
use serde::{Deserialize, Serialize};

/// `(name, city, state, id)`: the seller and the auction id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q3Row {
    pub name: String,
    pub city: String,
    pub state: String,
    pub id: i64,
}

impl CsvRow for Q3Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).str(&self.name).str(&self.city).str(&self.state).int(self.id);
    }
}

/// The seller's columns the query needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub id: i64,
    pub name: String,
    pub city: String,
    pub state: String,
}

#[derive(Clone, Default)]
struct LocalItemJoin {
    seller: ValueState<Seller>,
    waiting_auctions: ListState<i64>,
}

impl KeyedCoProcessFunction<i64, Auction, Seller, Q3Row> for LocalItemJoin {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.seller = ctx.get_state(&ValueStateDescriptor::new("seller"));
        self.waiting_auctions = ctx.get_state(&ListStateDescriptor::new("waiting-auctions"));
    }

    fn process_element1(&mut self, a: Auction, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q3Row>) {
        match ctx.state(&self.seller).value() {
            Some(s) => {
                out.collect(Q3Row { name: s.name.clone(), city: s.city.clone(), state: s.state.clone(), id: a.id })
            }
            None => ctx.list_state(&self.waiting_auctions).add(a.id),
        }
    }

    fn process_element2(&mut self, s: Seller, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<Q3Row>) {
        let waiting: Vec<i64> = ctx.list_state(&self.waiting_auctions).get().to_vec();
        for id in waiting {
            out.collect(Q3Row { name: s.name.clone(), city: s.city.clone(), state: s.state.clone(), id });
        }
        ctx.list_state(&self.waiting_auctions).clear();
        ctx.state(&self.seller).update(s);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q3Row> {
    view(events, "q3: Category 10 Auctions, Sellers in OR, ID, CA", |e: Event| match e {
        Event::Auction(a) if a.category == 10 => Some(Either::Left(a)),
        Event::Person(p) if matches!(p.state.as_str(), "OR" | "ID" | "CA") => {
            Some(Either::Right(Seller { id: p.id, name: p.name, city: p.city, state: p.state }))
        }
        _ => None,
    })
    .key_by(|x: &Either<Auction, Seller>| match x {
        Either::Left(a) => a.seller,
        Either::Right(s) => s.id,
    })
    .process(OneInput(LocalItemJoin::default()))
    .name("q3: Join Seller")
}
