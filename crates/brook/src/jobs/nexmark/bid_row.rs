//! The full bid row `(auction, bidder, price, channel, url, dateTime, extra)`
//! that q18 and q19 emit.

use super::csv::CsvLine;
use brook_connectors::nexmark::Bid;

/// Appends the bid's seven columns.
pub fn write_bid(line: &mut CsvLine<'_>, b: &Bid) {
    line.int(b.auction).int(b.bidder).int(b.price).str(&b.channel).str(&b.url).int(b.date_time).str(&b.extra);
}
