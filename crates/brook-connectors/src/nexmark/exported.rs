//! Reading an export back (`read_exported`): a split-based file source over
//! `person`, `auction` and `bid` files written by [`export`](super::export).
//!
//! Splits: each of the three files is cut into `parallelism` byte ranges and the
//! splits are listed person ranges first, then auction, then bid, so that subtask i
//! gets range i of every file — the same slice of event time, as the files are
//! sorted by `dateTime`. A line belongs to the range where it starts (as in the text
//! file source). A reader reads its splits in event-time lockstep (a batch from the
//! split that is furthest behind), and watermarks are per split, 4 s behind, as for
//! the generator: no event is late.
//!
//! A source may read only some of the three files ([`ExportedSource::reading`]):
//! a query over bids alone then reads `bid.*` only, as Flink's plan scans only the
//! tables a query names.

use super::error::NexmarkError;
use super::export::{ExportFormat, KINDS, export_path};
use super::generator::EventKind;
use super::model::{Auction, Bid, Event, Person};
use super::separators::Separators;
use brook_runtime::source::{
    Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator,
};
use brook_types::{Result, StreamRecord};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};

/// The exported files in `dir` and their format: CSV if `person.csv` is there, else JSON.
pub fn find_export(dir: &Path) -> Result<(ExportFormat, [PathBuf; 3]), NexmarkError> {
    for format in [ExportFormat::Csv, ExportFormat::Json] {
        let paths = KINDS.map(|kind| export_path(dir, kind, format));
        if paths.iter().all(|p| p.is_file()) {
            return Ok((format, paths));
        }
    }
    Err(NexmarkError::MissingExport { dir: dir.to_path_buf(), format: "csv" })
}

/// The columns of `person`, `auction` and `bid` files, in order (SPEC §1 names).
pub const COLUMNS: [&[&str]; 3] = [
    &["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"],
    &["id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category", "extra"],
    &["auction", "bidder", "price", "channel", "url", "dateTime", "extra"],
];

/// Bit `i` set: column `i` of a file is filled when it is text. All set: every column.
const ALL_COLUMNS: u16 = u16::MAX;

/// The exported events of a directory as a source.
#[derive(Clone, Debug)]
pub struct ExportedSource {
    dir: PathBuf,
    /// Which files to read, by `event_type` (person, auction, bid).
    kinds: [bool; 3],
    /// Which text columns to fill, per file (see [`ALL_COLUMNS`]).
    text: [u16; 3],
}

impl ExportedSource {
    /// Checks that `dir` holds an export. The source reads all three files.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, NexmarkError> {
        let dir = dir.into();
        find_export(&dir)?;
        Ok(Self { dir, kinds: [true; 3], text: [ALL_COLUMNS; 3] })
    }

    /// Reads only the files of `kinds` (the other events are not read at all).
    pub fn reading(mut self, kinds: &[EventKind]) -> Self {
        self.kinds = [EventKind::Person, EventKind::Auction, EventKind::Bid].map(|k| kinds.contains(&k));
        self
    }

    /// Fills only the text columns named in `columns` (`"bid.extra"`, `"person.name"`,
    /// …); every other text column of the events is left an empty string. Integer
    /// columns are always read. This is Flink's projection push-down into its file
    /// source: a query that never looks at a column does not pay for copying it.
    pub fn keeping_text(mut self, columns: &[&str]) -> Result<Self, NexmarkError> {
        self.text = [0; 3];
        for &name in columns {
            let found = name.split_once('.').and_then(|(file, column)| {
                let kind = KINDS.iter().position(|k| *k == file)?;
                Some((kind, COLUMNS[kind].iter().position(|c| *c == column)?))
            });
            let Some((kind, column)) = found else {
                return Err(NexmarkError::InvalidOption {
                    key: "columns".into(),
                    value: name.into(),
                    reason: "not a column: name one as `<person|auction|bid>.<column>`, e.g. `bid.extra`".into(),
                });
            };
            self.text[kind] |= 1 << column;
        }
        Ok(self)
    }

    /// The splits for `parallelism` readers.
    pub fn splits(&self, parallelism: usize) -> Result<Vec<ExportSplit>, NexmarkError> {
        let (format, paths) = find_export(&self.dir)?;
        let n = parallelism.max(1) as u64;
        let mut splits = Vec::new();
        for (kind, path) in paths.into_iter().enumerate() {
            if !self.kinds[kind] {
                continue;
            }
            let size = std::fs::metadata(&path).map_err(|e| NexmarkError::io("cannot read", &path, e))?.len();
            for i in 0..n {
                let (start, end) = (size * i / n, size * (i + 1) / n);
                splits.push(ExportSplit {
                    kind: kind as u8,
                    json: format == ExportFormat::Json,
                    path: path.clone(),
                    start,
                    end,
                    offset: start,
                    at_line_start: start == 0,
                });
            }
        }
        Ok(splits)
    }
}

/// Bytes `[start, end)` of an exported file; the next line to read starts at `offset`
/// (or at the first line start after `offset − 1` while `at_line_start` is false).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSplit {
    /// `event_type`: 0 person, 1 auction, 2 bid.
    pub kind: u8,
    pub json: bool,
    pub path: PathBuf,
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub at_line_start: bool,
}

impl SourceSplit for ExportSplit {
    fn split_id(&self) -> String {
        format!("{}:{}-{}", self.path.display(), self.start, self.end)
    }
}

impl Source<Event> for ExportedSource {
    type Split = ExportSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::Bounded
    }

    fn create_enumerator(&self, parallelism: usize) -> Result<Box<dyn SplitEnumerator<ExportSplit>>> {
        Ok(Box::new(ExportEnumerator { splits: Some(self.splits(parallelism)?) }))
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<Event, ExportSplit>>> {
        Ok(Box::new(ExportReader {
            text: self.text,
            batch_size: ctx.batch_size.max(1),
            splits: Vec::new(),
            last: None,
            finished: Vec::new(),
        }))
    }
}

struct ExportEnumerator {
    splits: Option<Vec<ExportSplit>>,
}

impl SplitEnumerator<ExportSplit> for ExportEnumerator {
    fn discover_splits(&mut self) -> Result<Vec<ExportSplit>> {
        Ok(self.splits.take().unwrap_or_default())
    }
}

struct OpenSplit {
    split: ExportSplit,
    reader: Option<BufReader<File>>,
    /// Event time of the last record read (`i64::MIN` before the first).
    last_time: i64,
    line: Vec<u8>,
}

/// Reads the splits of one subtask.
pub struct ExportReader {
    /// The text columns to fill, per file.
    text: [u16; 3],
    batch_size: usize,
    splits: Vec<OpenSplit>,
    last: Option<String>,
    finished: Vec<String>,
}

impl ExportReader {
    fn read_batch(&mut self, out: &mut Vec<StreamRecord<Event>>) -> Result<(), NexmarkError> {
        let Some(pos) = (0..self.splits.len()).min_by_key(|&i| self.splits[i].last_time) else {
            return Ok(());
        };
        let open = &mut self.splits[pos];
        let done = read_lines(open, self.batch_size, self.text, out)?;
        self.last = Some(open.split.split_id());
        if done {
            let closed = self.splits.remove(pos);
            self.finished.push(closed.split.split_id());
        }
        Ok(())
    }
}

/// Reads up to `max` records of `open`; true when the split is done.
fn read_lines(
    open: &mut OpenSplit,
    max: usize,
    text: [u16; 3],
    out: &mut Vec<StreamRecord<Event>>,
) -> Result<bool, NexmarkError> {
    let text = text[open.split.kind as usize];
    let split = &mut open.split;
    if open.reader.is_none() {
        let file = File::open(&split.path).map_err(|e| NexmarkError::io("cannot open", &split.path, e))?;
        let mut reader = BufReader::with_capacity(256 << 10, file);
        if !split.at_line_start {
            // The line at `offset` belongs to this split only if the byte before it ends a line.
            reader
                .seek(SeekFrom::Start(split.offset - 1))
                .map_err(|e| NexmarkError::io("cannot seek in", &split.path, e))?;
            let mut skipped = Vec::new();
            let n =
                reader.read_until(b'\n', &mut skipped).map_err(|e| NexmarkError::io("cannot read", &split.path, e))?;
            split.offset = split.offset - 1 + n as u64;
            split.at_line_start = true;
        } else {
            reader
                .seek(SeekFrom::Start(split.offset))
                .map_err(|e| NexmarkError::io("cannot seek in", &split.path, e))?;
        }
        open.reader = Some(reader);
    }
    let reader = open.reader.as_mut().expect("opened above");
    let mut lines = 0;
    while lines < max {
        if split.offset >= split.end {
            return Ok(true);
        }
        let buffered = reader.fill_buf().map_err(|e| NexmarkError::io("cannot read", &split.path, e))?;
        if buffered.is_empty() {
            return Ok(true);
        }
        // The complete lines in the read buffer, parsed where they lie, their
        // fields cut at the commas one pass over the buffer found.
        let mut consumed = 0;
        let mut commas = [0u32; MAX_FIELDS];
        let (mut n, mut quoted) = (0, false);
        let mut failed = None;
        for at in Separators::new(buffered) {
            match buffered[at] {
                b',' => {
                    if let Some(slot) = commas.get_mut(n) {
                        *slot = (at - consumed) as u32;
                    }
                    n += 1;
                }
                b'"' => quoted = true,
                _ => {
                    let line = &buffered[consumed..=at];
                    let parsed = if quoted || split.json || n >= MAX_FIELDS {
                        parse_line(split, line, text)
                    } else {
                        parse_plain_line(split.kind, line, &commas[..n], text)
                    };
                    let line_start = split.offset;
                    consumed = at + 1;
                    split.offset += line.len() as u64;
                    lines += 1;
                    match parsed {
                        Ok(Some(event)) => {
                            let ts = event.date_time();
                            open.last_time = ts;
                            out.push(StreamRecord::with_timestamp(event, ts));
                        }
                        Ok(None) => {}
                        Err(reason) => {
                            failed = Some((line_start, reason));
                            break;
                        }
                    }
                    (n, quoted) = (0, false);
                    if lines >= max || split.offset >= split.end {
                        break;
                    }
                }
            }
        }
        reader.consume(consumed);
        if let Some((line_start, reason)) = failed {
            return Err(malformed(split, line_start, reason));
        }
        if consumed > 0 {
            continue;
        }
        // No line ends in the buffer: this one is cut by the buffer's end (or
        // is the file's last, without `\n`), and is copied into `open.line`.
        open.line.clear();
        reader.read_until(b'\n', &mut open.line).map_err(|e| NexmarkError::io("cannot read", &split.path, e))?;
        let line_start = split.offset;
        split.offset += open.line.len() as u64;
        lines += 1;
        match parse_line(split, &open.line, text) {
            Ok(Some(event)) => {
                let ts = event.date_time();
                open.last_time = ts;
                out.push(StreamRecord::with_timestamp(event, ts));
            }
            Ok(None) => {}
            Err(reason) => return Err(malformed(split, line_start, reason)),
        }
    }
    Ok(split.offset >= split.end)
}

/// A line longer than this many fields takes the general path (and is an error).
const MAX_FIELDS: usize = 16;

fn malformed(split: &ExportSplit, line_start: u64, reason: String) -> NexmarkError {
    NexmarkError::Malformed {
        path: split.path.clone(),
        line: line_number(&split.path, line_start),
        kind: KINDS[split.kind as usize],
        reason,
    }
}

/// Parses a CSV line (with its `\n`) without quotes whose commas are at
/// `commas` (offsets in `line`); `None` for an empty line. Only the text
/// columns the query reads are checked to be UTF-8 and copied.
fn parse_plain_line(kind: u8, line: &[u8], commas: &[u32], text: u16) -> std::result::Result<Option<Event>, String> {
    let mut end = line.len();
    if line.get(end.wrapping_sub(1)) == Some(&b'\n') {
        end -= 1;
    }
    if end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    if end == 0 {
        return Ok(None);
    }
    parse_fields(kind, CutFields { line: &line[..end], commas, index: 0 }, text).map(Some)
}

/// Parses one line (with its `\n`, if any) of `split`; `None` for an empty line.
fn parse_line(split: &ExportSplit, line: &[u8], text_columns: u16) -> std::result::Result<Option<Event>, String> {
    let mut text = line;
    if let [rest @ .., b'\n'] = text {
        text = rest;
    }
    if let [rest @ .., b'\r'] = text {
        text = rest;
    }
    if text.is_empty() {
        return Ok(None);
    }
    if split.json { parse_json(split.kind, text) } else { parse_csv_keeping(split.kind, text, text_columns) }.map(Some)
}

/// The 1-based number of the line starting at byte `offset` (counted only when a
/// line is malformed).
fn line_number(path: &Path, offset: u64) -> u64 {
    let Ok(file) = File::open(path) else { return 0 };
    let mut reader = BufReader::new(file.take(offset));
    let mut buf = [0u8; 64 << 10];
    let mut lines = 1;
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    lines
}

impl SourceReader<Event, ExportSplit> for ExportReader {
    fn add_splits(&mut self, splits: Vec<ExportSplit>) {
        self.splits.extend(splits.into_iter().map(|split| OpenSplit {
            split,
            reader: None,
            last_time: i64::MIN,
            line: Vec::with_capacity(1024),
        }));
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(&mut self, _cx: &mut Context<'_>, out: &mut Vec<StreamRecord<Event>>) -> Poll<Result<ReaderStatus>> {
        if self.splits.is_empty() {
            return Poll::Ready(Ok(ReaderStatus::EndOfInput));
        }
        match self.read_batch(out) {
            Ok(()) => Poll::Ready(Ok(ReaderStatus::MoreAvailable)),
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }

    fn snapshot_splits(&self) -> Vec<ExportSplit> {
        self.splits.iter().map(|s| s.split.clone()).collect()
    }

    fn last_split(&self) -> Option<String> {
        self.last.clone()
    }

    fn take_finished_splits(&mut self) -> Vec<String> {
        std::mem::take(&mut self.finished)
    }
}

/// Parses one CSV line of `kind` (format in [`export`](super::export)).
pub fn parse_csv(kind: u8, line: &[u8]) -> std::result::Result<Event, String> {
    parse_csv_keeping(kind, line, ALL_COLUMNS)
}

/// [`parse_csv`] filling only the text columns whose bit is set in `text` (the
/// others are checked to be there, and left empty).
fn parse_csv_keeping(kind: u8, line: &[u8], text: u16) -> std::result::Result<Event, String> {
    // Generated text is never quoted: a line without `"` that is valid UTF-8 is
    // checked once and cut at its commas; anything else takes the general path.
    if memchr::memchr(b'"', line).is_none()
        && let Ok(line) = std::str::from_utf8(line)
    {
        return parse_fields(kind, PlainFields { rest: Some(line), index: 0 }, text);
    }
    parse_fields(kind, CsvFields { rest: Some(line), index: 0 }, text)
}

/// The fields of one CSV line, in order.
trait Fields {
    fn int(&mut self, column: &str) -> std::result::Result<i64, String>;
    /// The text of the next field, or an empty string without `keep`.
    fn text(&mut self, column: &str, keep: bool) -> std::result::Result<String, String>;
    /// Whether anything follows the last field taken, and how many were taken.
    fn rest(&self) -> (bool, usize);
}

fn parse_fields(kind: u8, mut fields: impl Fields, text: u16) -> std::result::Result<Event, String> {
    let keep = |column: u32| text & (1 << column) != 0;
    let event = match kind {
        0 => Event::Person(Person {
            id: fields.int("id")?,
            name: fields.text("name", keep(1))?,
            email_address: fields.text("emailAddress", keep(2))?,
            credit_card: fields.text("creditCard", keep(3))?,
            city: fields.text("city", keep(4))?,
            state: fields.text("state", keep(5))?,
            date_time: fields.int("dateTime")?,
            extra: fields.text("extra", keep(7))?,
        }),
        1 => Event::Auction(Auction {
            id: fields.int("id")?,
            item_name: fields.text("itemName", keep(1))?,
            description: fields.text("description", keep(2))?,
            initial_bid: fields.int("initialBid")?,
            reserve: fields.int("reserve")?,
            date_time: fields.int("dateTime")?,
            expires: fields.int("expires")?,
            seller: fields.int("seller")?,
            category: fields.int("category")?,
            extra: fields.text("extra", keep(9))?,
        }),
        _ => Event::Bid(Bid {
            auction: fields.int("auction")?,
            bidder: fields.int("bidder")?,
            price: fields.int("price")?,
            channel: fields.text("channel", keep(3))?,
            url: fields.text("url", keep(4))?,
            date_time: fields.int("dateTime")?,
            extra: fields.text("extra", keep(6))?,
        }),
    };
    if let (true, index) = fields.rest() {
        return Err(format!("more than the {index} columns of a {}", KINDS[kind as usize]));
    }
    Ok(event)
}

/// A decimal `i64` as `str::parse` reads it (optional sign, digits, no overflow),
/// without going through `str`.
fn parse_i64(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() {
        return None;
    }
    if digits.len() <= 16 {
        // Eight digits at a time (at most 16 digits cannot overflow).
        let value = match digits.split_at_checked(digits.len().saturating_sub(8)) {
            Some((high, low)) if !high.is_empty() => eight_digits(high)? * 100_000_000 + eight_digits(low)?,
            _ => eight_digits(digits)?,
        } as i64;
        return Some(if negative { -value } else { value });
    }
    if digits.len() <= 18 {
        // At most 18 digits cannot overflow.
        let mut value: i64 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            value = value * 10 + i64::from(d);
        }
        return Some(if negative { -value } else { value });
    }
    let mut value: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        value = value.checked_mul(10)?;
        value = if negative { value.checked_sub(i64::from(d))? } else { value.checked_add(i64::from(d))? };
    }
    Some(value)
}

/// 1 to 8 ASCII digits as a number, or `None` if a byte is not a digit: the
/// digits in one word, checked and combined in three multiplications
/// (pairs, then fours, then eight).
#[inline]
fn eight_digits(digits: &[u8]) -> Option<u64> {
    let mut padded = [b'0'; 8];
    padded[8 - digits.len()..].copy_from_slice(digits);
    // The first digit in the lowest byte.
    let word = u64::from_le_bytes(padded);
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // Each byte is 0x30..=0x39: its high half is 3, and adding 6 keeps it 3.
    if word & HIGH != ZEROS || word.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    let mut v = word & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    v = (v.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    Some(v.wrapping_mul(10_000 << 32 | 1) >> 32)
}

fn not_an_integer(index: usize, column: &str, field: &[u8]) -> String {
    format!("column {index} ({column}) is not an integer: '{}'", String::from_utf8_lossy(field))
}

/// The first `,` in `bytes`, eight bytes at a time: fields are mostly short, where a
/// word-at-a-time scan in line beats a call into a vector search.
fn find_comma(bytes: &[u8]) -> Option<usize> {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const COMMAS: u64 = 0x2C2C_2C2C_2C2C_2C2C;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let x = u64::from_le_bytes(chunk.try_into().expect("chunks of 8")) ^ COMMAS;
        // The high bit of a byte of `zero` is set exactly when that byte of `x` is 0
        // (no carry crosses bytes: 0x7F + 0x7F < 0x100).
        let zero = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&b| b == b',').map(|i| at + i)
}

/// The fields of a line without quotes, already checked to be UTF-8.
struct PlainFields<'a> {
    rest: Option<&'a str>,
    index: usize,
}

impl<'a> PlainFields<'a> {
    fn next(&mut self, column: &str) -> std::result::Result<&'a str, String> {
        let Some(rest) = self.rest else {
            return Err(format!("column {} ({column}) is missing", self.index + 1));
        };
        self.index += 1;
        match find_comma(rest.as_bytes()) {
            Some(at) => {
                self.rest = Some(&rest[at + 1..]);
                Ok(&rest[..at])
            }
            None => {
                self.rest = None;
                Ok(rest)
            }
        }
    }
}

impl Fields for PlainFields<'_> {
    fn int(&mut self, column: &str) -> std::result::Result<i64, String> {
        let field = self.next(column)?;
        parse_i64(field.as_bytes()).ok_or_else(|| not_an_integer(self.index, column, field.as_bytes()))
    }

    fn text(&mut self, column: &str, keep: bool) -> std::result::Result<String, String> {
        let field = self.next(column)?;
        Ok(if keep { field.to_owned() } else { String::new() })
    }

    fn rest(&self) -> (bool, usize) {
        (self.rest.is_some(), self.index)
    }
}

/// The fields of a line without quotes, cut at known commas.
struct CutFields<'a> {
    /// The line without its end.
    line: &'a [u8],
    /// Offsets of the commas in `line`.
    commas: &'a [u32],
    /// Fields taken.
    index: usize,
}

impl<'a> CutFields<'a> {
    #[inline]
    fn next(&mut self, column: &str) -> std::result::Result<&'a [u8], String> {
        let i = self.index;
        if i > self.commas.len() {
            return Err(format!("column {} ({column}) is missing", i + 1));
        }
        self.index += 1;
        let start = if i == 0 { 0 } else { self.commas[i - 1] as usize + 1 };
        let end = self.commas.get(i).map_or(self.line.len(), |&c| c as usize);
        Ok(&self.line[start..end])
    }
}

impl Fields for CutFields<'_> {
    #[inline]
    fn int(&mut self, column: &str) -> std::result::Result<i64, String> {
        let field = self.next(column)?;
        parse_i64(field).ok_or_else(|| not_an_integer(self.index, column, field))
    }

    #[inline]
    fn text(&mut self, column: &str, keep: bool) -> std::result::Result<String, String> {
        let field = self.next(column)?;
        if !keep {
            return Ok(String::new());
        }
        std::str::from_utf8(field)
            .map(str::to_owned)
            .map_err(|_| format!("column {} ({column}) is not valid UTF-8", self.index))
    }

    fn rest(&self) -> (bool, usize) {
        (self.index <= self.commas.len(), self.index)
    }
}

struct CsvFields<'a> {
    /// What follows the last field taken; `None` after the last field of the line.
    rest: Option<&'a [u8]>,
    index: usize,
}

impl<'a> CsvFields<'a> {
    fn next(&mut self, column: &str) -> std::result::Result<std::borrow::Cow<'a, [u8]>, String> {
        let Some(rest) = self.rest else {
            return Err(format!("column {} ({column}) is missing", self.index + 1));
        };
        self.index += 1;
        if let [b'"', quoted @ ..] = rest {
            let mut value = Vec::new();
            let mut i = 0;
            loop {
                match quoted.get(i) {
                    None => return Err(format!("column {} ({column}) has an unterminated quote", self.index)),
                    Some(b'"') if quoted.get(i + 1) == Some(&b'"') => {
                        value.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            self.rest = match quoted.get(i) {
                None => None,
                Some(b',') => Some(&quoted[i + 1..]),
                Some(_) => return Err(format!("column {} ({column}) has text after its closing quote", self.index)),
            };
            return Ok(std::borrow::Cow::Owned(value));
        }
        match memchr::memchr(b',', rest) {
            Some(at) => {
                self.rest = Some(&rest[at + 1..]);
                Ok(std::borrow::Cow::Borrowed(&rest[..at]))
            }
            None => {
                self.rest = None;
                Ok(std::borrow::Cow::Borrowed(rest))
            }
        }
    }
}

impl Fields for CsvFields<'_> {
    fn int(&mut self, column: &str) -> std::result::Result<i64, String> {
        let field = self.next(column)?;
        parse_i64(&field).ok_or_else(|| not_an_integer(self.index, column, &field))
    }

    fn text(&mut self, column: &str, keep: bool) -> std::result::Result<String, String> {
        let field = self.next(column)?;
        if !keep {
            return Ok(String::new());
        }
        match field {
            std::borrow::Cow::Borrowed(b) => std::str::from_utf8(b).map(str::to_owned).ok(),
            std::borrow::Cow::Owned(v) => String::from_utf8(v).ok(),
        }
        .ok_or_else(|| format!("column {} ({column}) is not valid UTF-8", self.index))
    }

    fn rest(&self) -> (bool, usize) {
        (self.rest.is_some(), self.index)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PersonJson {
    id: i64,
    name: String,
    email_address: String,
    credit_card: String,
    city: String,
    state: String,
    date_time: i64,
    extra: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuctionJson {
    id: i64,
    item_name: String,
    description: String,
    initial_bid: i64,
    reserve: i64,
    date_time: i64,
    expires: i64,
    seller: i64,
    category: i64,
    extra: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BidJson {
    auction: i64,
    bidder: i64,
    price: i64,
    channel: String,
    url: String,
    date_time: i64,
    extra: String,
}

/// Parses one JSON line of `kind`.
pub fn parse_json(kind: u8, line: &[u8]) -> std::result::Result<Event, String> {
    let err = |e: serde_json::Error| e.to_string();
    Ok(match kind {
        0 => {
            let p: PersonJson = serde_json::from_slice(line).map_err(err)?;
            Event::Person(Person {
                id: p.id,
                name: p.name,
                email_address: p.email_address,
                credit_card: p.credit_card,
                city: p.city,
                state: p.state,
                date_time: p.date_time,
                extra: p.extra,
            })
        }
        1 => {
            let a: AuctionJson = serde_json::from_slice(line).map_err(err)?;
            Event::Auction(Auction {
                id: a.id,
                item_name: a.item_name,
                description: a.description,
                initial_bid: a.initial_bid,
                reserve: a.reserve,
                date_time: a.date_time,
                expires: a.expires,
                seller: a.seller,
                category: a.category,
                extra: a.extra,
            })
        }
        _ => {
            let b: BidJson = serde_json::from_slice(line).map_err(err)?;
            Event::Bid(Bid {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                channel: b.channel,
                url: b.url,
                date_time: b.date_time,
                extra: b.extra,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::export::write_event;

    #[test]
    fn csv_quotes_round_trip_and_errors_name_the_column() {
        let bid = Event::Bid(Bid {
            auction: 1,
            bidder: 2,
            price: 3,
            channel: "a,\"b\"".into(),
            url: "u".into(),
            date_time: 4,
            extra: "".into(),
        });
        let mut line = Vec::new();
        write_event(ExportFormat::Csv, &bid, &mut line);
        assert_eq!(line, b"1,2,3,\"a,\"\"b\"\"\",u,4,\n");
        assert_eq!(parse_csv(2, &line[..line.len() - 1]).unwrap(), bid);
        line.clear();
        write_event(ExportFormat::Json, &bid, &mut line);
        assert_eq!(parse_json(2, &line[..line.len() - 1]).unwrap(), bid);
        assert_eq!(parse_csv(2, b"1,x,3,c,u,4,e").unwrap_err(), "column 2 (bidder) is not an integer: 'x'");
        assert_eq!(parse_csv(2, b"1,2,3,c,u,4").unwrap_err(), "column 7 (extra) is missing");
        assert_eq!(parse_csv(2, b"1,2,3,c,u,4,e,f").unwrap_err(), "more than the 7 columns of a bid");
        // The quoted (general) path reports the same way.
        assert_eq!(parse_csv(2, b"1,x,3,\"c\",u,4,e").unwrap_err(), "column 2 (bidder) is not an integer: 'x'");
        assert_eq!(parse_csv(2, b"1,2,3,\"c\",u,4,e,f").unwrap_err(), "more than the 7 columns of a bid");
        assert_eq!(parse_csv(2, b"1,2,3,c,\xff,4,e").unwrap_err(), "column 5 (url) is not valid UTF-8");
    }

    #[test]
    fn commas_are_found_where_they_are() {
        let text = b"0123456789,abcdefghijklmnopq,rstuvwxyz0123456789ABCDEFGHIJK,,x";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let bytes = &text[start..end];
                assert_eq!(find_comma(bytes), bytes.iter().position(|&b| b == b','), "{start}..{end}");
            }
        }
        // Bytes with the high bit set, and bytes next to ',' (0x2C), are not commas.
        assert_eq!(find_comma("é,+-ÿ".as_bytes()), Some(2));
        assert_eq!(find_comma(b"\xAC\x2B\x2D\xAC\xAC\xAC\xAC\xAC\xAC,"), Some(9));
    }

    #[test]
    fn only_the_kept_text_columns_are_filled() {
        let line = b"1,2,3,channel-7,https://u,4,padding";
        let Event::Bid(b) = parse_csv_keeping(2, line, 1 << 6).unwrap() else { panic!("a bid") };
        assert_eq!((b.auction, b.bidder, b.price, b.date_time), (1, 2, 3, 4));
        assert_eq!((b.channel.as_str(), b.url.as_str(), b.extra.as_str()), ("", "", "padding"));
        assert_eq!(parse_csv_keeping(2, b"1,2,3,c,u,4", 0).unwrap_err(), "column 7 (extra) is missing");
        let dir = tempfile::tempdir().unwrap();
        for kind in KINDS {
            std::fs::write(dir.path().join(format!("{kind}.csv")), "").unwrap();
        }
        let source = ExportedSource::new(dir.path()).unwrap();
        assert_eq!(source.clone().keeping_text(&["bid.extra", "person.name"]).unwrap().text, [1 << 1, 0, 1 << 6]);
        let error = source.keeping_text(&["bid.nope"]).unwrap_err().to_string();
        assert!(error.starts_with("invalid value 'bid.nope' for nexmark option 'columns': not a column"), "{error}");
    }

    #[test]
    fn integers_parse_as_str_parse_does() {
        for text in [
            "0",
            "-0",
            "+7",
            "42",
            "-9223372036854775808",
            "9223372036854775807",
            "007",
            "999999999999999999",
            "-999999999999999999",
            "1000000000000000000",
        ] {
            assert_eq!(parse_i64(text.as_bytes()), text.parse::<i64>().ok(), "{text}");
        }
        for text in ["", "-", "+", "1a", " 1", "1 ", "9223372036854775808", "-9223372036854775809", "1.5"] {
            assert_eq!(parse_i64(text.as_bytes()), None, "{text}");
        }
        // Every length up to 20, with a non-digit (or none) anywhere.
        let alphabet = b"0123456789+-/:a \xff9";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let len = (seed >> 59) as usize % 21;
            let mut bytes: Vec<u8> = (0..len).map(|i| b'0' + ((seed >> (i * 3 % 60)) % 10) as u8).collect();
            if len > 0 && seed & 3 == 0 {
                bytes[(seed >> 8) as usize % len] = alphabet[(seed >> 16) as usize % alphabet.len()];
            }
            let expected = std::str::from_utf8(&bytes).ok().and_then(|t| t.parse::<i64>().ok());
            assert_eq!(parse_i64(&bytes), expected, "{:?}", String::from_utf8_lossy(&bytes));
        }
    }
}
