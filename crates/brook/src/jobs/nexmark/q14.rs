//! q14 — calculation: bids whose euro price lies in (1,000,000, 50,000,000),
//! with the time of day as `bidTimeType` and the number of `c` bytes in `extra`.

use super::csv::{CsvLine, CsvRow};
use super::q1::euro_thousandths;
use super::streams::bids;
use super::time::hour;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(auction, bidder, price DECIMAL(23,3), bidTimeType, dateTime, extra, c_counts)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q14Row {
    pub auction: i64,
    pub bidder: i64,
    pub price_milli: i64,
    pub bid_time_type: String,
    pub date_time: i64,
    pub extra: String,
    pub c_counts: i64,
}

impl CsvRow for Q14Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out)
            .int(self.auction)
            .int(self.bidder)
            .milli(self.price_milli)
            .str(&self.bid_time_type)
            .int(self.date_time)
            .str(&self.extra)
            .int(self.c_counts);
    }
}

/// The `CASE` on `HOUR(dateTime)`.
pub fn bid_time_type(date_time: i64) -> &'static str {
    match hour(date_time) {
        8..=18 => "dayTime",
        h if h <= 6 || h >= 20 => "nightTime",
        _ => "otherTime",
    }
}

/// The `count_char` UDF: bytes of `s` equal to `c`.
pub fn count_char(s: &str, c: u8) -> i64 {
    s.bytes().filter(|&b| b == c).count() as i64
}

pub fn query(events: DataStream<Event>) -> DataStream<Q14Row> {
    bids(events)
        .flat_map(|b: Bid| {
            let price_milli = euro_thousandths(b.price);
            (price_milli > 1_000_000_000 && price_milli < 50_000_000_000).then(|| Q14Row {
                auction: b.auction,
                bidder: b.bidder,
                price_milli,
                bid_time_type: bid_time_type(b.date_time).to_string(),
                date_time: b.date_time,
                c_counts: count_char(&b.extra, b'c'),
                extra: b.extra,
            })
        })
        .name("q14: Calculation")
}
