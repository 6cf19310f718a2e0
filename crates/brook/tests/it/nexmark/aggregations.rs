//! q15, q16, q17 (unbounded group aggregations), q18 (deduplication) and q19
//! (Top-N): updating results.

use super::*;

const DAY: i64 = 86_400_000;

/// Day 1970-01-01: 1@(bidder 10, 5000: band 1), 1@(10, 10000: band 2),
/// 2@(11, 5000), 1@(10, 5000) (nothing new but a bid); day 1970-01-02: one bid
/// of 1,000,000 (band 3). Columns: day, bids (all, bands 1–3), distinct
/// bidders (all, bands), distinct auctions (all, bands).
#[test]
fn q15_reports_daily_bid_statistics() {
    let events = vec![
        bid(1, 10, 5000, 1000),
        bid(1, 10, 10_000, 2000),
        bid(2, 11, 5000, 3000),
        bid(2, 10, 1_000_000, DAY + 5),
        bid(1, 10, 5000, 4000),
    ];
    assert_changelog_str(
        "q15",
        &events,
        &[
            "+I,1970-01-01,1,1,0,0,1,1,0,0,1,1,0,0",
            "-U,1970-01-01,1,1,0,0,1,1,0,0,1,1,0,0",
            "+U,1970-01-01,2,1,1,0,1,1,1,0,1,1,1,0",
            "-U,1970-01-01,2,1,1,0,1,1,1,0,1,1,1,0",
            "+U,1970-01-01,3,2,1,0,2,2,1,0,2,2,1,0",
            "+I,1970-01-02,1,0,0,1,1,0,0,1,1,0,0,1",
            "-U,1970-01-01,3,2,1,0,2,2,1,0,2,2,1,0",
            "+U,1970-01-01,4,3,1,0,2,2,1,0,2,2,1,0",
        ],
        AtFour::SameLines,
    );
}

/// Google @01:00 (bidder 10, auction 1, 9999: band 1), Google @00:01 (11, 1,
/// 10000: band 2; the latest minute stays 01:00), Apple @02:00 (10, 2,
/// 1,000,000), Google @02:01 (10, 2, 9999: a new auction, a known bidder).
#[test]
fn q16_reports_statistics_per_channel_and_day() {
    let events = vec![
        bid_with(1, 10, 9999, 3_600_000, "Google", URL, "e"),
        bid_with(1, 11, 10_000, 60_000, "Google", URL, "e"),
        bid_with(2, 10, 1_000_000, 7_200_000, "Apple", URL, "e"),
        bid_with(2, 10, 9999, 7_260_000, "Google", URL, "e"),
    ];
    assert_changelog_str(
        "q16",
        &events,
        &[
            "+I,Google,1970-01-01,01:00,1,1,0,0,1,1,0,0,1,1,0,0",
            "-U,Google,1970-01-01,01:00,1,1,0,0,1,1,0,0,1,1,0,0",
            "+U,Google,1970-01-01,01:00,2,1,1,0,2,1,1,0,1,1,1,0",
            "+I,Apple,1970-01-01,02:00,1,0,0,1,1,0,0,1,1,0,0,1",
            "-U,Google,1970-01-01,01:00,2,1,1,0,2,1,1,0,1,1,1,0",
            "+U,Google,1970-01-01,02:01,3,2,1,0,2,1,1,0,2,2,1,0",
        ],
        AtFour::SameLines,
    );
}

/// Auction 1: 9999, 1,000,000, 10000; auction 2: 500. Columns: auction, day,
/// bids (all, bands 1–3), min, max, avg (truncated), sum.
#[test]
fn q17_reports_statistics_per_auction_and_day() {
    let events =
        vec![bid(1, 10, 9999, 1000), bid(1, 11, 1_000_000, 2000), bid(2, 12, 500, 3000), bid(1, 13, 10_000, 4000)];
    assert_changelog_str(
        "q17",
        &events,
        &[
            "+I,1,1970-01-01,1,1,0,0,9999,9999,9999,9999",
            "-U,1,1970-01-01,1,1,0,0,9999,9999,9999,9999",
            "+U,1,1970-01-01,2,1,0,1,9999,1000000,504999,1009999",
            "+I,2,1970-01-01,1,1,0,0,500,500,500,500",
            "-U,1,1970-01-01,2,1,0,1,9999,1000000,504999,1009999",
            "+U,1,1970-01-01,3,1,1,1,9999,1000000,339999,1019999",
        ],
        AtFour::SameLines,
    );
}

/// Bidder 10 on auction 1: 100@1000, 200@3000 (later: replaces), 300@2000
/// (earlier: ignored), 400@3000 (as late: replaces). Bidder 10 on auction 2 and
/// bidder 11 on auction 1 are keys of their own.
#[test]
fn q18_keeps_the_last_bid_per_bidder_and_auction() {
    let events = vec![
        bid(1, 10, 100, 1000),
        bid(1, 10, 200, 3000),
        bid(1, 10, 300, 2000),
        bid(1, 10, 400, 3000),
        bid(2, 10, 500, 500),
        bid(1, 11, 600, 100),
    ];
    assert_changelog(
        "q18",
        &events,
        &[
            format!("+I,1,10,100,Google,{URL},1000,e"),
            format!("-U,1,10,100,Google,{URL},1000,e"),
            format!("+U,1,10,200,Google,{URL},3000,e"),
            format!("-U,1,10,200,Google,{URL},3000,e"),
            format!("+U,1,10,400,Google,{URL},3000,e"),
            format!("+I,2,10,500,Google,{URL},500,e"),
            format!("+I,1,11,600,Google,{URL},100,e"),
        ],
        AtFour::SameLines,
    );
}

/// Auction 1 gets 100 (rank 1), 300 (takes rank 1: 100 moves to 2), 200 (rank
/// 2: 100 moves to 3), 300 again (after the equal one: rank 2; 200 and 100 move
/// down); auction 2 gets 50.
#[test]
fn q19_ranks_the_top_bids_of_every_auction() {
    let events = vec![
        bid(1, 10, 100, 1000),
        bid(1, 11, 300, 2000),
        bid(1, 12, 200, 3000),
        bid(1, 13, 300, 4000),
        bid(2, 14, 50, 5000),
    ];
    let row =
        |bidder: i64, price: i64, time: i64, rank: i64| format!("1,{bidder},{price},Google,{URL},{time},e,{rank}");
    let (b10, b11, b12, b13) = ((10, 100, 1000), (11, 300, 2000), (12, 200, 3000), (13, 300, 4000));
    let r = |(b, p, t): (i64, i64, i64), rank| row(b, p, t, rank);
    assert_changelog(
        "q19",
        &events,
        &[
            format!("+I,{}", r(b10, 1)),
            format!("-U,{}", r(b10, 1)),
            format!("+U,{}", r(b11, 1)),
            format!("+I,{}", r(b10, 2)),
            format!("-U,{}", r(b10, 2)),
            format!("+U,{}", r(b12, 2)),
            format!("+I,{}", r(b10, 3)),
            format!("-U,{}", r(b12, 2)),
            format!("+U,{}", r(b13, 2)),
            format!("-U,{}", r(b10, 3)),
            format!("+U,{}", r(b12, 3)),
            format!("+I,{}", r(b10, 4)),
            format!("+I,2,14,50,Google,{URL},5000,e,1"),
        ],
        AtFour::SameLines,
    );
}
