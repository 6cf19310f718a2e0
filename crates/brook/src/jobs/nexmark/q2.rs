//! q2 — selection: `SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0`.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(auction, price)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q2Row {
    pub auction: i64,
    pub price: i64,
}

impl CsvRow for Q2Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.price);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q2Row> {
    bids(events)
        .flat_map(|b: Bid| (b.auction % 123 == 0).then_some(Q2Row { auction: b.auction, price: b.price }))
        .name("q2: Selection")
}
