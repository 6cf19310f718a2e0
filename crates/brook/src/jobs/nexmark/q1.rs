//! q1 — currency conversion: `SELECT auction, bidder, 0.908 * price, dateTime, extra FROM bid`.
//! The price is Flink's `DECIMAL(23, 3)`: computed exactly in thousandths.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `0.908 * price` in thousandths (exact: `price * 908`).
pub fn euro_thousandths(price: i64) -> i64 {
    price.saturating_mul(908)
}

/// `(auction, bidder, price DECIMAL(23,3), dateTime, extra)`; `price` in thousandths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q1Row {
    pub auction: i64,
    pub bidder: i64,
    pub price_milli: i64,
    pub date_time: i64,
    pub extra: String,
}

impl CsvRow for Q1Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out)
            .int(self.auction)
            .int(self.bidder)
            .milli(self.price_milli)
            .int(self.date_time)
            .str(&self.extra);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q1Row> {
    bids(events)
        .map(|b: Bid| Q1Row {
            auction: b.auction,
            bidder: b.bidder,
            price_milli: euro_thousandths(b.price),
            date_time: b.date_time,
            extra: b.extra,
        })
        .name("q1: Currency Conversion")
}
