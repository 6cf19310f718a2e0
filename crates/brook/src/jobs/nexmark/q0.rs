//! q0 — pass through: `SELECT auction, bidder, price, dateTime, extra FROM bid`.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(auction, bidder, price, dateTime, extra)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q0Row {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub date_time: i64,
    pub extra: String,
}

impl CsvRow for Q0Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.bidder).int(self.price).int(self.date_time).str(&self.extra);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q0Row> {
    bids(events)
        .map(|b: Bid| Q0Row {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            date_time: b.date_time,
            extra: b.extra,
        })
        .name("q0: Project")
}
