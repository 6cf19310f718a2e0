//! q13 — bounded side-input join: each bid with the side table's value for
//! `MOD(auction, 10000)`. The benchmark's side table is a file of 10,000 lines
//! `i,i`; [`SideInput::default_table`] is that table. Flink looks it up at
//! processing time; the table never changes, so the result is deterministic.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// The side table `(key BIGINT, value VARCHAR)`.
#[derive(Clone, Debug)]
pub struct SideInput {
    table: Arc<HashMap<i64, String>>,
}

impl SideInput {
    /// The benchmark's table: keys 0..10000, each value the key as text.
    pub fn default_table() -> Self {
        Self::from_rows((0..10_000).map(|i| (i, i.to_string())))
    }

    pub fn from_rows(rows: impl IntoIterator<Item = (i64, String)>) -> Self {
        Self { table: Arc::new(rows.into_iter().collect()) }
    }

    pub fn get(&self, key: i64) -> Option<&str> {
        self.table.get(&key).map(String::as_str)
    }
}

/// `(auction, bidder, price, dateTime, value)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q13Row {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub date_time: i64,
    pub value: String,
}

impl CsvRow for Q13Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.bidder).int(self.price).int(self.date_time).str(&self.value);
    }
}

pub fn query(events: DataStream<Event>, side: SideInput) -> DataStream<Q13Row> {
    bids(events)
        .flat_map(move |b: Bid| {
            // Java's `%`: the sign of the dividend, as Flink's MOD.
            let value = side.get(b.auction % 10_000)?.to_string();
            Some(Q13Row { auction: b.auction, bidder: b.bidder, price: b.price, date_time: b.date_time, value })
        })
        .name("q13: Side Input Join")
}
