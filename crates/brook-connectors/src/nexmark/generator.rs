//! The Nexmark generator (SPEC §2): P sub-generators with contiguous event-id
//! blocks and one shared timeline. Event `k` of a sub-generator is a pure function of
//! the configuration, the sub-generator's first event id and `k`:
//!
//! ```text
//! event number n = 1 + k                   (firstEventNumber 1; no out-of-order groups)
//! event id       = firstEventId + n        (kind and every id derive from it)
//! date_time      = baseTime + trunc(n × interEventDelayUs) / 1000
//! random draws   = SplitMix64(seed, event id)
//! ```
//!
//! so a split's position is just `k`, and the same seed gives the same events
//! whatever the parallelism that reads the splits.

use super::config::NexmarkConfig;
use super::model::{Auction, Bid, Event, Person};
use super::rng::EventRng;
use super::strings::{
    CHANNELS_NUMBER, HOT_CHANNELS, PoolRange, channels, credit_card, extra_range, price, push_rand_string, rand_string,
};

pub const FIRST_PERSON_ID: i64 = 1000;
pub const FIRST_AUCTION_ID: i64 = 1000;
pub const FIRST_CATEGORY_ID: i64 = 10;
pub const NUM_CATEGORIES: u32 = 5;
const PERSON_ID_LEAD: i64 = 10;
const AUCTION_ID_LEAD: i64 = 10;
/// Block sizes for the hot seller, auction and bidder.
const HOT_SELLER_RATIO: i64 = 100;
const HOT_AUCTION_RATIO: i64 = 100;
const HOT_BIDDER_RATIO: i64 = 100;
const NUM_IN_FLIGHT_AUCTIONS: i64 = 100;
const NUM_ACTIVE_PEOPLE: i64 = 1000;

const FIRST_NAMES: [&str; 11] =
    ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES: [&str; 9] = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
const CITIES: [&str; 10] =
    ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
const STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];

/// The kind of an event id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Person,
    Auction,
    Bid,
}

/// One sub-generator: the block of event ids `[first_event_id + 1, first_event_id + events]`.
#[derive(Clone, Debug)]
pub struct SubGenerator {
    seed: u64,
    base_time: i64,
    inter_event_delay_us: f64,
    first_event_id: i64,
    person_proportion: i64,
    auction_proportion: i64,
    total_proportion: i64,
    person_avg_size: usize,
    auction_avg_size: usize,
    bid_avg_size: usize,
    hot_auction_ratio: u32,
    hot_bidder_ratio: u32,
    hot_seller_ratio: u32,
    bidder_offset: i64,
    flink_chars: bool,
}

impl SubGenerator {
    /// Sub-generator `index` of `generators` under `config` (§2.2): its first event id
    /// is `1 + index × ⌊maxEvents / generators⌋`; all share the timeline.
    pub fn new(config: &NexmarkConfig, index: u32, generators: u32) -> Self {
        let generators = generators.max(1);
        let per = config.max_events() / u64::from(generators);
        Self {
            seed: config.seed,
            base_time: config.base_time,
            inter_event_delay_us: 1_000_000.0 / config.first_event_rate.max(1) as f64 * f64::from(generators),
            first_event_id: 1 + i64::from(index) * per as i64,
            person_proportion: i64::from(config.person_proportion),
            auction_proportion: i64::from(config.auction_proportion),
            total_proportion: config.total_proportion() as i64,
            person_avg_size: config.person_avg_size as usize,
            auction_avg_size: config.auction_avg_size as usize,
            bid_avg_size: config.bid_avg_size as usize,
            hot_auction_ratio: config.hot_auction_ratio,
            hot_bidder_ratio: config.hot_bidder_ratio,
            hot_seller_ratio: config.hot_seller_ratio,
            bidder_offset: if config.flink_quirks { 2 * FIRST_PERSON_ID } else { FIRST_PERSON_ID },
            flink_chars: config.flink_quirks,
        }
    }

    /// Events of sub-generator `index` of `generators` (the last takes the remainder).
    pub fn events_of(config: &NexmarkConfig, index: u32, generators: u32) -> u64 {
        let generators = u64::from(generators.max(1));
        let per = config.max_events() / generators;
        if u64::from(index) + 1 == generators { config.max_events() - per * (generators - 1) } else { per }
    }

    /// Event time of event number `n` (§2.3).
    #[inline]
    pub fn timestamp(&self, n: u64) -> i64 {
        self.base_time + (n as f64 * self.inter_event_delay_us) as i64 / 1000
    }

    /// The event id of the `k`-th event of this sub-generator.
    #[inline]
    pub fn event_id(&self, k: u64) -> i64 {
        self.first_event_id + 1 + k as i64
    }

    /// The kind of event `event_id` (§2.4).
    #[inline]
    pub fn kind(&self, event_id: i64) -> EventKind {
        let off = event_id % self.total_proportion;
        if off < self.person_proportion {
            EventKind::Person
        } else if off < self.person_proportion + self.auction_proportion {
            EventKind::Auction
        } else {
            EventKind::Bid
        }
    }

    /// The `k`-th event (k = events this sub-generator emitted before it).
    pub fn event(&self, k: u64) -> Event {
        let (mut event, tables) = self.event_without_tables(k);
        tables.fill(&mut event, self.flink_chars);
        event
    }

    /// Events `ks` appended to `out` as `make(event)`: each is [`event`](Self::event)`(k)`. The
    /// strings copied from the shared tables (padding pool, channel URLs) are
    /// prefetched while the batch is generated and copied in at the end, so the
    /// copies rarely wait for memory.
    pub fn events_into<R>(
        &self,
        ks: std::ops::Range<u64>,
        out: &mut Vec<R>,
        mut make: impl FnMut(Event) -> R,
        mut event_of: impl FnMut(&mut R) -> &mut Event,
    ) {
        let first = out.len();
        let mut tables = Vec::with_capacity((ks.end - ks.start) as usize);
        for k in ks {
            let (event, t) = self.event_without_tables(k);
            t.prefetch(self.flink_chars);
            out.push(make(event));
            tables.push(t);
        }
        for (record, t) in out[first..].iter_mut().zip(tables) {
            t.fill(event_of(record), self.flink_chars);
        }
    }

    /// Event `k` with empty table strings, and where they are.
    fn event_without_tables(&self, k: u64) -> (Event, TableStrings) {
        let n = 1 + k;
        let event_id = self.first_event_id + n as i64;
        let timestamp = self.timestamp(n);
        let mut rng = EventRng::for_event(self.seed, event_id);
        match self.kind(event_id) {
            EventKind::Person => {
                let (p, extra) = self.person(event_id, &mut rng, timestamp);
                (Event::Person(p), TableStrings { extra, cold_channel: None })
            }
            EventKind::Auction => {
                let (a, extra) = self.auction(event_id, n, &mut rng, timestamp);
                (Event::Auction(a), TableStrings { extra, cold_channel: None })
            }
            EventKind::Bid => {
                let (b, tables) = self.bid(event_id, &mut rng, timestamp);
                (Event::Bid(b), tables)
            }
        }
    }

    fn last_base0_person_id(&self, event_id: i64) -> i64 {
        let epoch = event_id / self.total_proportion;
        let off = (event_id % self.total_proportion).min(self.person_proportion - 1);
        epoch * self.person_proportion + off
    }

    fn last_base0_auction_id(&self, event_id: i64) -> i64 {
        let mut epoch = event_id / self.total_proportion;
        let mut off = event_id % self.total_proportion;
        if off < self.person_proportion {
            epoch -= 1;
            off = self.auction_proportion - 1;
        } else if off >= self.person_proportion + self.auction_proportion {
            off = self.auction_proportion - 1;
        } else {
            off -= self.person_proportion;
        }
        epoch * self.auction_proportion + off
    }

    fn next_base0_person_id(&self, event_id: i64, rng: &mut EventRng) -> i64 {
        let num_people = self.last_base0_person_id(event_id) + 1;
        let active = num_people.min(NUM_ACTIVE_PEOPLE);
        num_people - active + rng.next_long(active + PERSON_ID_LEAD)
    }

    fn next_base0_auction_id(&self, event_id: i64, rng: &mut EventRng) -> i64 {
        let max = self.last_base0_auction_id(event_id);
        let min = (max - NUM_IN_FLIGHT_AUCTIONS).max(0);
        min + rng.next_long(max - min + 1 + AUCTION_ID_LEAD)
    }

    fn person(&self, event_id: i64, rng: &mut EventRng, timestamp: i64) -> (Person, PoolRange) {
        let id = self.last_base0_person_id(event_id) + FIRST_PERSON_ID;
        let first = FIRST_NAMES[rng.next_int(FIRST_NAMES.len() as u32) as usize];
        let last = LAST_NAMES[rng.next_int(LAST_NAMES.len() as u32) as usize];
        let mut name = String::with_capacity(first.len() + 1 + last.len());
        name.push_str(first);
        name.push(' ');
        name.push_str(last);
        let mut email = String::with_capacity(16);
        push_rand_string(rng, 7, b' ', &mut email);
        email.push('@');
        push_rand_string(rng, 5, b' ', &mut email);
        email.push_str(".com");
        let credit_card = credit_card(rng);
        let city = CITIES[rng.next_int(CITIES.len() as u32) as usize];
        let state = STATES[rng.next_int(STATES.len() as u32) as usize];
        let size = 8 + name.len() + email.len() + credit_card.len() + city.len() + state.len();
        let extra = extra_range(rng, size, self.person_avg_size);
        let person = Person {
            id,
            name,
            email_address: email,
            credit_card,
            city: city.to_owned(),
            state: state.to_owned(),
            date_time: timestamp,
            extra: String::new(),
        };
        (person, extra)
    }

    fn auction(&self, event_id: i64, n: u64, rng: &mut EventRng, timestamp: i64) -> (Auction, PoolRange) {
        let id = self.last_base0_auction_id(event_id) + FIRST_AUCTION_ID;
        let seller = if rng.next_int(self.hot_seller_ratio) > 0 {
            (self.last_base0_person_id(event_id) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        } else {
            self.next_base0_person_id(event_id, rng)
        } + FIRST_PERSON_ID;
        let category = FIRST_CATEGORY_ID + i64::from(rng.next_int(NUM_CATEGORIES));
        let initial_bid = price(rng);
        // When the auction NUM_IN_FLIGHT_AUCTIONS from now will be created (§2.6).
        let ahead = (NUM_IN_FLIGHT_AUCTIONS * self.total_proportion / self.auction_proportion) as u64;
        let horizon = self.timestamp(n + ahead) - timestamp;
        let expires = timestamp + 1 + rng.next_long((horizon * 2).max(1));
        let item_name = rand_string(rng, 20, b' ');
        let description = rand_string(rng, 100, b' ');
        let reserve = initial_bid + price(rng);
        let size = 8 + item_name.len() + description.len() + 40;
        let extra = extra_range(rng, size, self.auction_avg_size);
        let auction = Auction {
            id,
            item_name,
            description,
            initial_bid,
            reserve,
            date_time: timestamp,
            expires,
            seller,
            category,
            extra: String::new(),
        };
        (auction, extra)
    }

    fn bid(&self, event_id: i64, rng: &mut EventRng, timestamp: i64) -> (Bid, TableStrings) {
        let auction = if rng.next_int(self.hot_auction_ratio) > 0 {
            (self.last_base0_auction_id(event_id) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
        } else {
            self.next_base0_auction_id(event_id, rng)
        } + FIRST_AUCTION_ID;
        let bidder = if rng.next_int(self.hot_bidder_ratio) > 0 {
            (self.last_base0_person_id(event_id) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
        } else {
            self.next_base0_person_id(event_id, rng)
        } + self.bidder_offset;
        let price = price(rng);
        let (channel, url, cold_channel) = if rng.next_int(2) > 0 {
            let i = rng.next_int(HOT_CHANNELS.len() as u32) as usize;
            (HOT_CHANNELS[i].to_owned(), channels().hot_urls[i].clone(), None)
        } else {
            (String::new(), String::new(), Some(rng.next_int(CHANNELS_NUMBER)))
        };
        let extra = extra_range(rng, 32, self.bid_avg_size);
        let bid = Bid { auction, bidder, price, channel, url, date_time: timestamp, extra: String::new() };
        (bid, TableStrings { extra, cold_channel })
    }
}

/// The strings of an event that are copied from the shared tables: its `extra`
/// padding and, for a bid on a cold channel, the channel and its URL.
#[derive(Clone, Copy, Debug)]
struct TableStrings {
    extra: PoolRange,
    cold_channel: Option<u32>,
}

impl TableStrings {
    fn prefetch(self, flink_chars: bool) {
        self.extra.prefetch(flink_chars);
        if let Some(n) = self.cold_channel {
            channels().prefetch_cold(n);
        }
    }

    /// Copies the strings into `event` (made by the same sub-generator call).
    fn fill(self, event: &mut Event, flink_chars: bool) {
        let extra = self.extra.text(flink_chars).to_owned();
        match event {
            Event::Person(p) => p.extra = extra,
            Event::Auction(a) => a.extra = extra,
            Event::Bid(b) => {
                b.extra = extra;
                if let Some(n) = self.cold_channel {
                    let (channel, url) = channels().cold(n);
                    b.channel = channel.to_owned();
                    b.url = url.to_owned();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_generator() -> SubGenerator {
        SubGenerator::new(&NexmarkConfig { events_num: 1000, ..NexmarkConfig::default() }, 0, 1)
    }

    #[test]
    fn the_first_events_are_flinks() {
        // §2.4: first id 2; events 2, 3 are auctions 1001, 1002; 4..49 bids; 50 person 1001.
        let g = one_generator();
        let kinds: Vec<EventKind> = (0..49).map(|k| g.kind(g.event_id(k))).collect();
        assert_eq!(kinds[..2], [EventKind::Auction, EventKind::Auction]);
        assert!(kinds[2..48].iter().all(|k| *k == EventKind::Bid));
        assert_eq!(kinds[48], EventKind::Person);
        let Event::Auction(a) = g.event(0) else { panic!("event 2 is an auction") };
        assert_eq!(a.id, 1001);
        let Event::Person(p) = g.event(48) else { panic!("event 50 is a person") };
        assert_eq!(p.id, 1001);
    }

    #[test]
    fn a_batch_holds_exactly_the_events_one_by_one() {
        for flink_quirks in [true, false] {
            let config = NexmarkConfig { events_num: 5_000, flink_quirks, ..NexmarkConfig::default() };
            let g = SubGenerator::new(&config, 1, 2);
            let mut batch = vec![g.event(0)];
            g.events_into(100..2_600, &mut batch, |e| e, |e| e);
            let one_by_one: Vec<Event> = std::iter::once(0).chain(100..2_600).map(|k| g.event(k)).collect();
            assert_eq!(batch, one_by_one);
            let kinds = |kind: EventKind| batch.iter().filter(|e| e.event_type() == kind as i32).count();
            assert!(kinds(EventKind::Person) > 0 && kinds(EventKind::Auction) > 0);
            assert!(batch.iter().all(|e| match e {
                Event::Bid(b) => !b.channel.is_empty() && b.url.starts_with("https://www.nexmark.com/"),
                Event::Auction(a) => !a.extra.is_empty(),
                Event::Person(p) => !p.extra.is_empty(),
            }));
        }
    }

    #[test]
    fn timestamps_follow_the_shared_timeline() {
        // 10,000 events/s over 2 generators: 200 µs per event per generator.
        let config = NexmarkConfig { events_num: 100, ..NexmarkConfig::default() };
        let g = SubGenerator::new(&config, 1, 2);
        assert_eq!(g.event_id(0), 1 + 50 + 1);
        assert_eq!(g.timestamp(1), config.base_time);
        assert_eq!(g.timestamp(5), config.base_time + 1);
        assert_eq!(g.event(9).date_time(), config.base_time + 2);
        assert_eq!(SubGenerator::events_of(&NexmarkConfig { events_num: 101, ..config }, 1, 2), 51);
    }

    #[test]
    fn auctions_expire_within_twice_the_horizon() {
        // Default 10k/s, one generator: horizon ≈ 166 ms.
        let g = one_generator();
        for k in 0..1000 {
            if let Event::Auction(a) = g.event(k) {
                let len = a.expires - a.date_time;
                assert!((1..=334).contains(&len), "{len}");
                assert!(a.reserve > a.initial_bid);
                assert!((10..15).contains(&a.category));
            }
        }
    }
}
