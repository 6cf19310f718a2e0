//! `brook nexmark gen`: the generator's events written to one file per kind
//! (`person.csv`, `auction.csv`, `bid.csv`, or `.json`), in event-time order.
//!
//! Format (docs/design/nexmark.md):
//!
//! * CSV: no header; `,` separated; `\n` line ends; columns in SPEC §1 order; every
//!   timestamp as epoch milliseconds; a field is quoted with `"` (inner `"` doubled)
//!   only if it holds `,`, `"`, `\r` or `\n` — generated text never does, so the
//!   files are also valid for Flink's `csv` format.
//!   - person:  id,name,emailAddress,creditCard,city,state,dateTime,extra
//!   - auction: id,itemName,description,initialBid,reserve,dateTime,expires,seller,category,extra
//!   - bid:     auction,bidder,price,channel,url,dateTime,extra
//! * JSON: one object per line with the SPEC §1 (Flink) column names, the same values.
//!
//! Order: the P sub-generators share one timeline, so the export interleaves them
//! event number by event number (generator 0, 1, …, P−1, then the next number), and
//! every file is sorted by `dateTime`.

use super::config::NexmarkConfig;
use super::error::NexmarkError;
use super::generator::SubGenerator;
use super::model::{Auction, Bid, Event, Person};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The exported files' format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    /// The file extension, also the name on the command line.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }
}

/// The files of one kind: `<dir>/<kind>.<format>`.
pub fn export_path(dir: &Path, kind: &str, format: ExportFormat) -> PathBuf {
    dir.join(format!("{kind}.{}", format.extension()))
}

/// The event kinds' file stems, in `event_type` order.
pub const KINDS: [&str; 3] = ["person", "auction", "bid"];

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub persons: u64,
    pub auctions: u64,
    pub bids: u64,
    pub bytes: u64,
}

/// The events of `generators` sub-generators under `config`, interleaved by event
/// number (the export's order; see the module doc).
pub fn merged_events(config: &NexmarkConfig, generators: u32) -> impl Iterator<Item = Event> + use<> {
    let generators = generators.max(1);
    let subs: Vec<(SubGenerator, u64)> = (0..generators)
        .map(|i| {
            let mut end = SubGenerator::events_of(config, i, generators);
            if config.stop_at >= 0 {
                end = end.min(config.stop_at as u64);
            }
            (SubGenerator::new(config, i, generators), end)
        })
        .collect();
    let rounds = subs.iter().map(|(_, end)| *end).max().unwrap_or(0);
    (0..rounds).flat_map(move |k| {
        subs.iter().filter(move |(_, end)| k < *end).map(move |(g, _)| g.event(k)).collect::<Vec<_>>()
    })
}

/// Writes the events of `config` (which must be bounded: `events.num` > 0) from
/// `generators` sub-generators into `dir` (created if missing). Generation and
/// writing run on two threads.
pub fn export(
    config: &NexmarkConfig,
    generators: u32,
    format: ExportFormat,
    dir: &Path,
) -> Result<ExportSummary, NexmarkError> {
    config.validate()?;
    if config.events_num == 0 {
        return Err(NexmarkError::InvalidOption {
            key: "events.num".into(),
            value: "0".into(),
            reason: "an export needs a bounded number of events".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| NexmarkError::io("cannot create", dir, e))?;
    let mut files = Vec::with_capacity(3);
    for kind in KINDS {
        let path = export_path(dir, kind, format);
        let file = File::create(&path).map_err(|e| NexmarkError::io("cannot create", &path, e))?;
        files.push((path, BufWriter::with_capacity(1 << 20, file)));
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Event>>(4);
    let config = config.clone();
    let producer = std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(8192);
        for event in merged_events(&config, generators) {
            chunk.push(event);
            if chunk.len() == chunk.capacity()
                && tx.send(std::mem::replace(&mut chunk, Vec::with_capacity(8192))).is_err()
            {
                return;
            }
        }
        let _ = tx.send(chunk);
    });
    let mut summary = ExportSummary::default();
    let mut line = Vec::with_capacity(1024);
    for chunk in rx {
        for event in &chunk {
            line.clear();
            let kind = write_event(format, event, &mut line);
            match kind {
                0 => summary.persons += 1,
                1 => summary.auctions += 1,
                _ => summary.bids += 1,
            }
            summary.bytes += line.len() as u64;
            let (path, out) = &mut files[kind];
            out.write_all(&line).map_err(|e| NexmarkError::io("cannot write", path.clone(), e))?;
        }
    }
    producer.join().expect("the generator thread does not panic");
    for (path, mut out) in files {
        out.flush().map_err(|e| NexmarkError::io("cannot write", path, e))?;
    }
    Ok(summary)
}

/// Appends `event` as one line of `format` to `out`; returns its `event_type`.
pub fn write_event(format: ExportFormat, event: &Event, out: &mut Vec<u8>) -> usize {
    match format {
        ExportFormat::Csv => write_csv(event, out),
        ExportFormat::Json => write_json(event, out),
    }
    out.push(b'\n');
    event.event_type() as usize
}

fn write_csv(event: &Event, out: &mut Vec<u8>) {
    let mut row = CsvRow { out, first: true };
    match event {
        Event::Person(Person { id, name, email_address, credit_card, city, state, date_time, extra }) => {
            row.int(*id);
            row.text(name);
            row.text(email_address);
            row.text(credit_card);
            row.text(city);
            row.text(state);
            row.int(*date_time);
            row.text(extra);
        }
        Event::Auction(a) => {
            let Auction {
                id,
                item_name,
                description,
                initial_bid,
                reserve,
                date_time,
                expires,
                seller,
                category,
                extra,
            } = a;
            row.int(*id);
            row.text(item_name);
            row.text(description);
            row.int(*initial_bid);
            row.int(*reserve);
            row.int(*date_time);
            row.int(*expires);
            row.int(*seller);
            row.int(*category);
            row.text(extra);
        }
        Event::Bid(Bid { auction, bidder, price, channel, url, date_time, extra }) => {
            row.int(*auction);
            row.int(*bidder);
            row.int(*price);
            row.text(channel);
            row.text(url);
            row.int(*date_time);
            row.text(extra);
        }
    }
}

struct CsvRow<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl CsvRow<'_> {
    fn sep(&mut self) {
        if !std::mem::replace(&mut self.first, false) {
            self.out.push(b',');
        }
    }

    fn int(&mut self, v: i64) {
        self.sep();
        self.out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    fn text(&mut self, s: &str) {
        self.sep();
        let bytes = s.as_bytes();
        let needs_quotes = bytes.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
        if !needs_quotes {
            self.out.extend_from_slice(bytes);
            return;
        }
        self.out.push(b'"');
        for &b in bytes {
            if b == b'"' {
                self.out.push(b'"');
            }
            self.out.push(b);
        }
        self.out.push(b'"');
    }
}

fn write_json(event: &Event, out: &mut Vec<u8>) {
    let mut obj = JsonObject { out, first: true };
    obj.out.push(b'{');
    match event {
        Event::Person(p) => {
            obj.int("id", p.id);
            obj.text("name", &p.name);
            obj.text("emailAddress", &p.email_address);
            obj.text("creditCard", &p.credit_card);
            obj.text("city", &p.city);
            obj.text("state", &p.state);
            obj.int("dateTime", p.date_time);
            obj.text("extra", &p.extra);
        }
        Event::Auction(a) => {
            obj.int("id", a.id);
            obj.text("itemName", &a.item_name);
            obj.text("description", &a.description);
            obj.int("initialBid", a.initial_bid);
            obj.int("reserve", a.reserve);
            obj.int("dateTime", a.date_time);
            obj.int("expires", a.expires);
            obj.int("seller", a.seller);
            obj.int("category", a.category);
            obj.text("extra", &a.extra);
        }
        Event::Bid(b) => {
            obj.int("auction", b.auction);
            obj.int("bidder", b.bidder);
            obj.int("price", b.price);
            obj.text("channel", &b.channel);
            obj.text("url", &b.url);
            obj.int("dateTime", b.date_time);
            obj.text("extra", &b.extra);
        }
    }
    obj.out.push(b'}');
}

struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl JsonObject<'_> {
    fn key(&mut self, key: &str) {
        if !std::mem::replace(&mut self.first, false) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn int(&mut self, key: &str, v: i64) {
        self.key(key);
        self.out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    fn text(&mut self, key: &str, s: &str) {
        self.key(key);
        self.out.push(b'"');
        for c in s.chars() {
            match c {
                '"' => self.out.extend_from_slice(b"\\\""),
                '\\' => self.out.extend_from_slice(b"\\\\"),
                '\n' => self.out.extend_from_slice(b"\\n"),
                '\r' => self.out.extend_from_slice(b"\\r"),
                '\t' => self.out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 => {
                    self.out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
                }
                c => {
                    let mut buf = [0u8; 4];
                    self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        self.out.push(b'"');
    }
}
