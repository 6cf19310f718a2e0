//! q22 — URL directories: `SPLIT_INDEX(url, '/', 3..=5)`.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(auction, bidder, price, channel, dir1, dir2, dir3)`; a missing piece is NULL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q22Row {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub channel: String,
    pub dir1: Option<String>,
    pub dir2: Option<String>,
    pub dir3: Option<String>,
}

impl CsvRow for Q22Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out)
            .int(self.auction)
            .int(self.bidder)
            .int(self.price)
            .str(&self.channel)
            .opt_str(self.dir1.as_deref())
            .opt_str(self.dir2.as_deref())
            .opt_str(self.dir3.as_deref());
    }
}

/// Flink's `SPLIT_INDEX(s, sep, i)`: the 0-based piece `i`, empty pieces kept.
pub fn split_index(s: &str, sep: char, index: usize) -> Option<&str> {
    s.split(sep).nth(index)
}

pub fn query(events: DataStream<Event>) -> DataStream<Q22Row> {
    bids(events)
        .map(|b: Bid| {
            let mut pieces = b.url.split('/').skip(3);
            let mut next = || pieces.next().map(str::to_string);
            let (dir1, dir2, dir3) = (next(), next(), next());
            Q22Row { auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, dir1, dir2, dir3 }
        })
        .name("q22: Split URL")
}
