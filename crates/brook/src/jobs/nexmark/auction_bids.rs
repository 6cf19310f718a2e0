//! What q4, q6 and q9 share: bids joined with their auction where
//! `B.dateTime BETWEEN A.dateTime AND A.expires`, keyed by auction id.
//!
//! Flink plans a regular join that keeps every bid and every auction. Auction ids
//! are unique and the queries only need each auction's best bid, so the state
//! here is the auction, its best valid bid so far, and the bids that arrived
//! before their auction.

use brook_connectors::nexmark::{Auction, Bid};

/// Whether `bid` is valid for `auction`: within its lifetime, both ends included.
pub fn in_lifetime(auction: &Auction, bid: &Bid) -> bool {
    auction.date_time <= bid.date_time && bid.date_time <= auction.expires
}

/// Whether `candidate` beats `best` in `ORDER BY price DESC, dateTime ASC`
/// (an equal bid does not: the first one keeps the rank).
pub fn beats(candidate: &Bid, best: &Bid) -> bool {
    candidate.price > best.price || (candidate.price == best.price && candidate.date_time < best.date_time)
}

/// The best of `bids` that are valid for `auction`, earliest arrival on ties.
pub fn best_valid<'a>(auction: &Auction, bids: impl IntoIterator<Item = &'a Bid>) -> Option<&'a Bid> {
    let mut best: Option<&Bid> = None;
    for b in bids {
        if in_lifetime(auction, b) && best.is_none_or(|best| beats(b, best)) {
            best = Some(b);
        }
    }
    best
}
