//! q5, q7, q8, q11 (event-time windows) and q12 (processing-time windows).

use super::*;

/// Bids (auction @time), with the watermark after each:
/// 1@1000 (−3000), 2@1500, 1@3000, 2@3500, 3@9000 (5000: windows ending 2000
/// and 4000 fire), 3@11000 (7000: 6000 fires), 2@12000 (8000: 8000 fires),
/// 1@1900 (late for the windows ending 2000 … 8000, counts in the one ending
/// 10000), 4@16000 (12000: 10000 and 12000 fire), then end of input.
/// Per window [end − 10 s, end): the counts and the winners:
/// - 2000: 1:1 2:1 → both; 4000, 6000, 8000: 1:2 2:2 → both
/// - 10000: 1:3 (with the late bid) 2:2 3:1 → 1,3
/// - 12000: 1:1 2:1 3:2 → 3,2; 14000, 16000: 2:1 3:2; 18000: 2:1 3:2 4:1 → 3,2
/// - 20000: 2:1 3:1 4:1 → all three; 22000: 2:1 4:1 → both; 24000, 26000: 4:1
#[test]
fn q5_finds_the_hottest_auctions_of_every_hopping_window() {
    let events = vec![
        bid(1, 10, 1, 1000),
        bid(2, 10, 1, 1500),
        bid(1, 10, 1, 3000),
        bid(2, 10, 1, 3500),
        bid(3, 10, 1, 9000),
        bid(3, 10, 1, 11_000),
        bid(2, 10, 1, 12_000),
        bid(1, 10, 1, 1900),
        bid(4, 10, 1, 16_000),
    ];
    assert_rows_str(
        "q5",
        &events,
        &[
            "1,1", "2,1", // 2000
            "1,2", "2,2", // 4000
            "1,2", "2,2", // 6000
            "1,2", "2,2", // 8000
            "1,3", // 10000
            "3,2", // 12000
            "3,2", // 14000
            "3,2", // 16000
            "3,2", // 18000
            "2,1", "3,1", "4,1", // 20000
            "2,1", "4,1", // 22000
            "4,1", // 24000
            "4,1", // 26000
        ],
    );
}

/// Window [0, 10000]: the maximum 300 is bid by 2@2000 and 3@9999, and 4@10000
/// lies on the window's end (BETWEEN includes it) while counting for the next
/// window. When the watermark passes 9999 the three are emitted; 6@5000 bids
/// 300 late: it does not count for the maximum but still joins it; 7@8000 bids
/// 999 late: neither. Window [10000, 20000]: maximum 300 by 4@10000, and 9@20000
/// on its end; window [20000, 30000]: 9 alone.
#[test]
fn q7_emits_the_bids_at_each_windows_maximum_price() {
    let events = vec![
        bid(1, 11, 100, 1000),
        bid(2, 12, 300, 2000),
        bid(3, 13, 300, 9999),
        bid(4, 14, 300, 10_000),
        bid(5, 15, 50, 15_000),
        bid(6, 16, 300, 5000),
        bid(7, 17, 999, 8000),
        bid(8, 18, 200, 19_000),
        bid(9, 19, 300, 20_000),
    ];
    assert_rows_str(
        "q7",
        &events,
        &[
            "2,300,12,2000,e",
            "3,300,13,9999,e",
            "4,300,14,10000,e",
            "6,300,16,5000,e",
            "4,300,14,10000,e",
            "9,300,19,20000,e",
            "9,300,19,20000,e",
        ],
    );
}

/// Person 1 registers @1000 and sells @2000 → window 0. Person 2 sells only in
/// the next window. Person 3 registers @14000 and sells @15000 (its sale @9000
/// comes after window 0 fired: late). Person 4 registers late (@5000 after
/// window 0 fired). Person 1's sale @11000 is in a window it did not register in.
#[test]
fn q8_finds_people_who_registered_and_sold_in_the_same_window() {
    let events = vec![
        person(1, "Peter Smith", "Bend", "OR", 1000),
        auction(100, 1, 10, 2000, 9000),
        person(2, "Kate Jones", "Kent", "WA", 3000),
        auction(101, 2, 10, 12_000, 19_000),
        person(3, "Luke Noris", "Boise", "ID", 14_000),
        auction(102, 3, 10, 9000, 19_000),
        auction(103, 3, 10, 15_000, 19_000),
        person(4, "Sarah Walton", "Kent", "WA", 5000),
        auction(104, 4, 10, 16_000, 19_000),
        auction(105, 1, 10, 11_000, 19_000),
    ];
    assert_rows_str("q8", &events, &["1,Peter Smith,0", "3,Luke Noris,10000"]);
}

/// Bidder 1: @1000, @5000, @15000 (its window touches the session's end 15000,
/// so it merges) → [1000, 25000) with 3 bids, fired by the watermark 26000.
/// Bidder 2: @2000 → [2000, 12000); @30000 then @31000 (arriving after the
/// watermark reached 36000, but joining an open session) → [30000, 41000).
/// Bidder 3: @40000, then @20000 (late: alone, its session would have fired).
/// Bidder 1 @26000 arrives at watermark 36000: late.
#[test]
fn q11_counts_bids_per_session() {
    let events = vec![
        bid(1, 1, 1, 1000),
        bid(1, 2, 1, 2000),
        bid(1, 1, 1, 5000),
        bid(1, 1, 1, 15_000),
        bid(1, 2, 1, 30_000),
        bid(1, 3, 1, 40_000),
        bid(1, 3, 1, 20_000),
        bid(1, 2, 1, 31_000),
        bid(1, 1, 1, 26_000),
    ];
    assert_rows_str("q11", &events, &["1,3,1000,25000", "2,1,2000,12000", "2,2,30000,41000", "3,1,40000,50000"]);
}

/// Which processing-time window a bid lands in depends on the wall clock; what
/// does not: windows are 10 s, aligned to the epoch, and each bid counts once.
#[test]
fn q12_counts_every_bid_once_in_aligned_processing_time_windows() {
    let events = vec![bid(1, 1, 1, 1000), bid(1, 2, 1, 2000), bid(1, 1, 1, 3000), bid(2, 1, 1, 50_000)];
    for parallelism in [1, 4] {
        let mut per_bidder = std::collections::BTreeMap::new();
        for line in run("q12", &events, parallelism) {
            let f: Vec<i64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let [bidder, count, start, end] = f[..] else { panic!("4 columns in {line}") };
            assert_eq!((start % 10_000, end - start), (0, 10_000), "{line}");
            *per_bidder.entry(bidder).or_insert(0) += count;
        }
        assert_eq!(per_bidder, [(1, 3), (2, 1)].into_iter().collect(), "at parallelism {parallelism}");
    }
}
