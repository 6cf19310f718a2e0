//! The generator: the same seed gives the same events at any parallelism; kinds and
//! hot keys follow the SPEC's proportions; a split restored from its position goes on
//! with exactly the events it would have produced.

use crate::support::{canonical, collect, drain, env, reader};
use brook_connectors::nexmark::{self, Event, NexmarkConfig, NexmarkSource, SubGenerator};
use brook_runtime::source::SourceReader;
use std::collections::BTreeMap;

fn config(events: u64, splits: u32) -> NexmarkConfig {
    NexmarkConfig { events_num: events, splits, seed: 42, ..NexmarkConfig::default() }
}

#[test]
fn same_seed_same_events_at_any_parallelism() {
    let config = config(20_000, 4);
    let runs: Vec<Vec<Event>> = [1, 2, 3]
        .into_iter()
        .map(|p| {
            let env = env(p);
            let stream = nexmark::source(&env, &config);
            canonical(collect(&env, stream))
        })
        .collect();
    assert_eq!(runs[0].len(), 20_000);
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
    // And the same as the export order's generation, event for event.
    assert_eq!(runs[0], canonical(nexmark::merged_events(&config, 4).collect()));
    // Another seed changes what is drawn, not the kinds and ids derived from event ids.
    let other: Vec<Event> = nexmark::merged_events(&NexmarkConfig { seed: 43, ..config.clone() }, 4).collect();
    assert_ne!(canonical(other.clone()), runs[0]);
    let firsts: Vec<i32> = nexmark::merged_events(&config, 4).map(|e| e.event_type()).collect();
    assert_eq!(other.iter().map(Event::event_type).collect::<Vec<_>>(), firsts);
}

#[test]
fn each_split_gives_the_same_events_whoever_reads_it() {
    let config = config(10_000, 4);
    let source = NexmarkSource::new(config.clone());
    let splits = source.splits(4);
    assert_eq!(splits.iter().map(|s| s.end).collect::<Vec<_>>(), vec![2500; 4]);
    // One reader with all four splits (parallelism 1) vs one reader per split.
    let all = drain(&mut reader(&config, splits.clone(), 300), usize::MAX);
    let mut per_split: BTreeMap<u32, Vec<Event>> = BTreeMap::new();
    for split in &splits {
        let alone = drain(&mut reader(&config, vec![split.clone()], 1000), usize::MAX);
        per_split.insert(split.index, alone.into_iter().map(|r| r.value).collect());
    }
    let generator = |i: u32| SubGenerator::new(&config, i, 4);
    for (index, events) in &per_split {
        assert_eq!(events.len(), 2500);
        let expected: Vec<Event> = (0..2500).map(|k| generator(*index).event(k)).collect();
        assert_eq!(events, &expected, "split {index}");
    }
    let mut all_events: Vec<Event> = all.iter().map(|r| r.value.clone()).collect();
    all_events = canonical(all_events);
    assert_eq!(all_events, canonical(per_split.into_values().flatten().collect()));
    // Records carry their event time as timestamp.
    assert!(all.iter().all(|r| r.timestamp == r.value.date_time()));
}

#[test]
fn a_restored_split_continues_exactly() {
    let config = config(5_000, 2);
    let splits = NexmarkSource::new(config.clone()).splits(2);
    let uninterrupted: Vec<Event> =
        drain(&mut reader(&config, splits.clone(), 128), usize::MAX).into_iter().map(|r| r.value).collect();
    for cut in [1, 700, 2_047, 4_999] {
        let mut first = reader(&config, splits.clone(), 128);
        let mut before: Vec<Event> = drain(&mut first, cut).into_iter().map(|r| r.value).collect();
        let snapshot = first.snapshot_splits();
        // The positions account for every event emitted.
        assert_eq!(
            snapshot.iter().map(|s| s.next).sum::<u64>() as usize
                + (5_000 - snapshot.iter().map(|s| s.end).sum::<u64>() as usize),
            before.len()
        );
        let snapshot: Vec<_> = serde_json::from_str(&serde_json::to_string(&snapshot).unwrap()).unwrap();
        let after = drain(&mut reader(&config, snapshot, 128), usize::MAX);
        before.extend(after.into_iter().map(|r| r.value));
        assert_eq!(before, uninterrupted, "cut after {cut} events");
    }
}

#[test]
fn kinds_and_hot_keys_follow_the_proportions() {
    let config = NexmarkConfig { events_num: 1_000_000, splits: 1, ..NexmarkConfig::default() };
    let g = SubGenerator::new(&config, 0, 1);
    let (mut persons, mut auctions, mut bids) = (0u64, 0u64, 0u64);
    let (mut hot_auction, mut hot_bidder, mut hot_seller, mut hot_channel) = (0u64, 0u64, 0u64, 0u64);
    let mut last_person = 1000;
    let mut last_auction = 1000;
    for k in 0..1_000_000 {
        match g.event(k) {
            Event::Person(p) => {
                persons += 1;
                assert_eq!(p.id, last_person + 1, "person ids are dense");
                last_person = p.id;
            }
            Event::Auction(a) => {
                auctions += 1;
                assert_eq!(a.id, last_auction + 1, "auction ids are dense");
                last_auction = a.id;
                let base0 = last_person - 1000;
                if a.seller == (base0 / 100) * 100 + 1000 {
                    hot_seller += 1;
                }
            }
            Event::Bid(b) => {
                bids += 1;
                let base0 = last_auction - 1000;
                if b.auction == (base0 / 100) * 100 + 1000 {
                    hot_auction += 1;
                }
                // Flink's bidder carries +2000 (SPEC §2.11 quirk 1).
                if b.bidder == ((last_person - 1000) / 100) * 100 + 1 + 2000 {
                    hot_bidder += 1;
                }
                if ["Google", "Facebook", "Baidu", "Apple"].contains(&b.channel.as_str()) {
                    hot_channel += 1;
                }
            }
        }
    }
    // Event ids 2..=1,000,001: positions 0 / 1-3 / 4-49 of every 50.
    assert_eq!((persons, auctions, bids), (20_000, 60_000, 920_000));
    let share = |n: u64, of: u64| n as f64 / of as f64;
    // Hot shares, plus the few cold draws that hit the hot key by chance (≈ 1/111
    // auctions, 1/1010 persons); ±1 % absolute.
    let near = |x: f64, want: f64| (x - want).abs() < 0.01;
    assert!(near(share(hot_auction, bids), 0.5 + 0.5 / 111.0), "{}", share(hot_auction, bids));
    assert!(near(share(hot_bidder, bids), 0.75 + 0.25 / 1010.0), "{}", share(hot_bidder, bids));
    assert!(near(share(hot_seller, auctions), 0.75 + 0.25 / 1010.0), "{}", share(hot_seller, auctions));
    assert!(near(share(hot_channel, bids), 0.5), "{}", share(hot_channel, bids));
}

#[test]
fn the_source_assigns_event_time_and_ends() {
    // 1,000 events at 10,000/s over one generator: event time spans 100 ms from the base time.
    let config = config(1_000, 0);
    let env = env(1);
    let stream = nexmark::source(&env, &config).map(|e| e.date_time());
    let times = collect(&env, stream);
    assert_eq!(times.len(), 1_000);
    assert_eq!(times.first(), Some(&config.base_time));
    assert_eq!(times.last(), Some(&(config.base_time + 100)));
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}
