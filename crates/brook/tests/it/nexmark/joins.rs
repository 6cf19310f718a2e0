//! q3, q4, q6, q9, q20: joins of auctions with persons or bids.

use super::*;

/// Sellers 1 (OR), 2 (WA: filtered), 3 (CA, arrives after its auction),
/// 4 (ID, no auctions); auctions 10 (seller 1, category 10), 11 (seller 1,
/// category 11: filtered), 12 (seller 2), 13 (seller 3, before its seller),
/// 14 (seller 1, after), 15 (seller 99: no such person).
#[test]
fn q3_joins_category_10_auctions_with_sellers_in_or_id_ca() {
    let events = vec![
        person(1, "Peter Smith", "Bend", "OR", 0),
        person(2, "Kate Jones", "Kent", "WA", 0),
        auction(10, 1, 10, 100, 9000),
        auction(11, 1, 11, 200, 9000),
        auction(12, 2, 10, 300, 9000),
        auction(13, 3, 10, 400, 9000),
        person(3, "Saul White", "Phoenix", "CA", 5000),
        person(4, "Luke Noris", "Boise", "ID", 5000),
        auction(14, 1, 10, 6000, 9000),
        auction(15, 99, 10, 6000, 9000),
    ];
    assert_rows_str("q3", &events, &["Peter Smith,Bend,OR,10", "Saul White,Phoenix,CA,13", "Peter Smith,Bend,OR,14"]);
}

/// Auction 1 (category 10) gets a bid before it arrives and one after; auction
/// 2 is in category 11; auction 3 never arrives.
#[test]
fn q20_expands_bids_of_category_10_auctions() {
    let events = vec![
        bid(1, 100, 5, 1000),
        auction(1, 7, 10, 0, 100_000),
        bid(1, 101, 6, 2000),
        auction(2, 7, 11, 0, 100_000),
        bid(2, 102, 7, 3000),
        bid(3, 103, 8, 4000),
    ];
    assert_rows(
        "q20",
        &events,
        &[
            format!("1,100,5,Google,{URL},1000,e,item1,desc,10,20,0,100000,7,10,ae"),
            format!("1,101,6,Google,{URL},2000,e,item1,desc,10,20,0,100000,7,10,ae"),
        ],
    );
}

/// Category 10: auction 1 (lifetime 1000..=5000) and 2 (1000..=9000);
/// category 11: auction 3 (2000..=3000).
/// - bid 1@1500 for 50 waits for auction 1; when it arrives: max 50 → +I 10,50
/// - 40 on auction 1: below the max → nothing
/// - 70 on auction 2: avg (50 + 70) / 2 = 60 → -U 10,50 / +U 10,60
/// - 90 on auction 1 at 5000 = expires (included): avg (90 + 70) / 2 = 80
/// - 100 at 5001 and 95 at 999: outside auction 1's lifetime → nothing
/// - 30 on auction 3 at its expiry → +I 11,30
/// - 71 on auction 2: avg (90 + 71) / 2 = 80 (truncated): unchanged → nothing
/// - a bid on auction 9, which never comes → nothing
#[test]
fn q4_averages_the_final_prices_per_category() {
    let events = vec![
        bid(1, 100, 50, 1500),
        auction(1, 7, 10, 1000, 5000),
        bid(1, 100, 40, 2000),
        auction(2, 7, 10, 1000, 9000),
        bid(2, 100, 70, 2500),
        bid(1, 100, 90, 5000),
        bid(1, 100, 100, 5001),
        bid(1, 100, 95, 999),
        auction(3, 7, 11, 2000, 3000),
        bid(3, 100, 30, 3000),
        bid(2, 100, 71, 3000),
        bid(9, 100, 5, 3000),
    ];
    assert_changelog_str(
        "q4",
        &events,
        &["+I,10,50", "-U,10,50", "+U,10,60", "-U,10,60", "+U,10,80", "+I,11,30"],
        AtFour::SameResult,
    );
}

/// Auction 1 lives 1000..=5000. Bids 101 (60 @1600) and 100 (50 @1500) wait for
/// it; on arrival the better one, 101, is the first winner. 102 bids the same
/// 60 earlier (@1400) and wins the tie; 103 (60 @1400, the same) does not;
/// 104 (80 @6000) is after expiry; 105 (75 @5000) wins. Auction 2 gets no bids.
/// A new winner is `-D` of the old one and `+I` of the new (Flink's Top-1
/// without row number).
#[test]
fn q9_keeps_the_winning_bid_of_every_auction() {
    let events = vec![
        bid(1, 100, 50, 1500),
        bid(1, 101, 60, 1600),
        auction(1, 7, 10, 1000, 5000),
        bid(1, 102, 60, 1400),
        bid(1, 103, 60, 1400),
        bid(1, 104, 80, 6000),
        bid(1, 105, 75, 5000),
        auction(2, 7, 10, 1000, 2000),
    ];
    let a1 = "1,item1,desc,10,20,1000,5000,7,10,ae";
    assert_changelog(
        "q9",
        &events,
        &[
            format!("+I,{a1},1,101,60,1600,e"),
            format!("-D,{a1},1,101,60,1600,e"),
            format!("+I,{a1},1,102,60,1400,e"),
            format!("-D,{a1},1,102,60,1400,e"),
            format!("+I,{a1},1,105,75,5000,e"),
        ],
        AtFour::SameLines,
    );
}

/// Seller 7: auctions 1 (closes at 1000), 2 (2000), 3 (3000); seller 8:
/// auction 4 (1500). The bid @6000 raises the watermark to 2000: auctions 1
/// (final 200: the bid @1000 = expiry counts; 400 @6000 does not), 4 (1000)
/// and 2 (300) close → seller 7: 200, then (200 + 300) / 2 = 250; seller 8:
/// 1000. Auction 3 gets 10 @2500 and closes when the watermark reaches 4000 →
/// (200 + 300 + 10) / 3 = 170. Seller 5 then closes 12 auctions (at end of
/// input) with final prices 100, 200, … 1200: the averages of the last (up to)
/// 11 are 100, 150, … 600, and then (200 + … + 1200) / 11 = 700.
#[test]
fn q6_averages_the_last_11_final_prices_per_seller() {
    let mut events = vec![
        auction(1, 7, 10, 0, 1000),
        auction(2, 7, 10, 0, 2000),
        auction(3, 7, 10, 0, 3000),
        auction(4, 8, 10, 0, 1500),
        bid(1, 100, 100, 500),
        bid(2, 100, 300, 1500),
        bid(1, 100, 200, 1000),
        bid(4, 100, 1000, 1200),
        bid(2, 100, 50, 1800),
        bid(9, 100, 70, 100),
        bid(1, 100, 400, 6000),
        bid(3, 100, 10, 2500),
        bid(9, 100, 1, 8000),
    ];
    for i in 0..12 {
        events.push(auction(100 + i, 5, 10, 0, 10_000 + i * 10));
    }
    for i in 0..12 {
        events.push(bid(100 + i, 100, (i + 1) * 100, 10_000 + i * 10));
    }
    let mut expected = vec!["7,200", "7,250", "8,1000", "7,170"];
    expected.extend(["5,100", "5,150", "5,200", "5,250", "5,300", "5,350", "5,400", "5,450", "5,500", "5,550"]);
    expected.extend(["5,600", "5,700"]);
    assert_rows_str("q6", &events, &expected);
}
