use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator};
use brook_types::{BrookError, Result, StreamRecord};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};

/// `read_text_file(path)`: the lines of a file, or of every file in a directory
/// (sorted by name, skipping names starting with `.` or `_`), split into byte ranges
/// so that several subtasks read one file in parallel.
///
/// A line belongs to the split in which it starts: a reader of `[start, end)` skips
/// the partial line at `start` (unless `start` is 0) and reads every line that starts
/// before `end`, even past `end`. Lines end at `\n`; a trailing `\r` is removed.
/// Invalid UTF-8 is replaced by U+FFFD.
#[derive(Clone, Debug)]
pub struct TextFileSource {
    pub path: PathBuf,
}

/// A byte range of one file; `offset` is where reading resumes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSplit {
    pub path: PathBuf,
    pub start: u64,
    pub end: u64,
    /// The next byte to read (start of a line), or `start` before the first read.
    pub offset: u64,
}

impl SourceSplit for FileSplit {
    fn split_id(&self) -> String {
        format!("{}:{}", self.path.display(), self.start)
    }
}

const MIN_SPLIT_BYTES: u64 = 1 << 20;
const MAX_SPLIT_BYTES: u64 = 128 << 20;

impl TextFileSource {
    /// The files this source reads, or an error saying what is wrong with the path.
    pub fn files(path: &Path) -> Result<Vec<(PathBuf, u64)>> {
        let meta = std::fs::metadata(path).map_err(|e| BrookError::io("cannot read input", path, e))?;
        if meta.is_file() {
            return Ok(vec![(path.to_path_buf(), meta.len())]);
        }
        let mut files = Vec::new();
        let entries = std::fs::read_dir(path).map_err(|e| BrookError::io("cannot list input directory", path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BrookError::io("cannot list input directory", path, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let meta = entry.metadata().map_err(|e| BrookError::io("cannot read input", entry.path(), e))?;
            if meta.is_file() {
                files.push((entry.path(), meta.len()));
            }
        }
        files.sort();
        Ok(files)
    }
}

impl Source<String> for TextFileSource {
    type Split = FileSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::Bounded
    }

    fn create_enumerator(&self, parallelism: usize) -> Result<Box<dyn SplitEnumerator<FileSplit>>> {
        Ok(Box::new(FileEnumerator { path: self.path.clone(), parallelism, done: false }))
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<String, FileSplit>>> {
        Ok(Box::new(TextFileReader {
            splits: Vec::new(),
            current: None,
            batch_size: ctx.batch_size,
            line: Vec::new(),
            last_split: None,
            finished: Vec::new(),
        }))
    }
}

struct FileEnumerator {
    path: PathBuf,
    parallelism: usize,
    done: bool,
}

impl SplitEnumerator<FileSplit> for FileEnumerator {
    fn discover_splits(&mut self) -> Result<Vec<FileSplit>> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(Vec::new());
        }
        let files = TextFileSource::files(&self.path)?;
        let total: u64 = files.iter().map(|(_, len)| len).sum();
        // Aim for one split per reader, within [1 MiB, 128 MiB] per split.
        let target = (total / self.parallelism.max(1) as u64).clamp(MIN_SPLIT_BYTES, MAX_SPLIT_BYTES);
        let mut splits = Vec::new();
        for (path, len) in files {
            let mut start = 0;
            while start < len {
                let end = if len - start <= target + target / 10 { len } else { start + target };
                splits.push(FileSplit { path: path.clone(), start, end, offset: start });
                start = end;
            }
        }
        Ok(splits)
    }
}

struct OpenSplit {
    split: FileSplit,
    reader: BufReader<File>,
}

struct TextFileReader {
    splits: Vec<FileSplit>,
    current: Option<OpenSplit>,
    batch_size: usize,
    line: Vec<u8>,
    last_split: Option<String>,
    finished: Vec<String>,
}

impl TextFileReader {
    fn open(split: FileSplit) -> Result<OpenSplit> {
        let mut file = File::open(&split.path).map_err(|e| BrookError::io("cannot open input file", &split.path, e))?;
        let mut split = split;
        if split.offset == split.start && split.start > 0 {
            // Skip to the first line starting at or after `start`.
            file.seek(SeekFrom::Start(split.start - 1))
                .map_err(|e| BrookError::io("cannot read input file", &split.path, e))?;
            let mut reader = BufReader::with_capacity(1 << 18, file);
            let mut skipped = Vec::new();
            let n = reader
                .read_until(b'\n', &mut skipped)
                .map_err(|e| BrookError::io("cannot read input file", &split.path, e))?;
            split.offset = split.start - 1 + n as u64;
            return Ok(OpenSplit { split, reader });
        }
        file.seek(SeekFrom::Start(split.offset))
            .map_err(|e| BrookError::io("cannot read input file", &split.path, e))?;
        Ok(OpenSplit { split, reader: BufReader::with_capacity(1 << 18, file) })
    }
}

impl SourceReader<String, FileSplit> for TextFileReader {
    fn add_splits(&mut self, splits: Vec<FileSplit>) {
        self.splits.extend(splits);
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(&mut self, _cx: &mut Context<'_>, out: &mut Vec<StreamRecord<String>>) -> Poll<Result<ReaderStatus>> {
        if self.current.is_none() {
            if self.splits.is_empty() {
                return Poll::Ready(Ok(ReaderStatus::EndOfInput));
            }
            let split = self.splits.remove(0);
            match Self::open(split) {
                Ok(open) => self.current = Some(open),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let open = self.current.as_mut().expect("opened above");
        let split_id = open.split.split_id();
        self.last_split = Some(split_id.clone());
        let mut emitted = 0;
        while emitted < self.batch_size {
            if open.split.offset >= open.split.end {
                self.current = None;
                self.finished.push(split_id);
                break;
            }
            self.line.clear();
            let n = match (&mut open.reader).take(u64::MAX).read_until(b'\n', &mut self.line) {
                Ok(n) => n,
                Err(e) => {
                    return Poll::Ready(Err(BrookError::io("cannot read input file", &open.split.path, e)));
                }
            };
            if n == 0 {
                self.current = None;
                self.finished.push(split_id);
                break;
            }
            open.split.offset += n as u64;
            let mut bytes: &[u8] = &self.line;
            if let Some(stripped) = bytes.strip_suffix(b"\n") {
                bytes = stripped;
            }
            if let Some(stripped) = bytes.strip_suffix(b"\r") {
                bytes = stripped;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(bytes).into_owned(),
            };
            out.push(StreamRecord::new(text));
            emitted += 1;
        }
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<FileSplit> {
        self.current.iter().map(|o| o.split.clone()).chain(self.splits.iter().cloned()).collect()
    }

    fn last_split(&self) -> Option<String> {
        self.last_split.clone()
    }

    fn take_finished_splits(&mut self) -> Vec<String> {
        std::mem::take(&mut self.finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;
    use proptest::prelude::*;

    fn read_split(split: FileSplit) -> Vec<String> {
        let mut reader = TextFileReader {
            splits: vec![split],
            current: None,
            batch_size: 7,
            line: Vec::new(),
            last_split: None,
            finished: Vec::new(),
        };
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        loop {
            match reader.poll_next(&mut cx, &mut out) {
                Poll::Ready(Ok(ReaderStatus::EndOfInput)) => break,
                Poll::Ready(Ok(ReaderStatus::MoreAvailable)) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        out.into_iter().map(|r| r.value).collect()
    }

    fn reader(splits: Vec<FileSplit>, batch_size: usize) -> TextFileReader {
        TextFileReader { splits, current: None, batch_size, line: Vec::new(), last_split: None, finished: Vec::new() }
    }

    proptest! {
        /// A reader restored from the splits it reported at any point goes on with
        /// the next line: what a checkpoint records is a position, not a guess.
        #[test]
        fn a_restored_reader_resumes_at_the_snapshot_position(
            lines in proptest::collection::vec("[a-z]{0,8}", 1..40),
            cut in 0u64..200,
            polls in 0usize..8,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("in.txt");
            let text = lines.join("\n") + "\n";
            std::fs::write(&path, &text).unwrap();
            let len = text.len() as u64;
            let cut = cut % (len + 1);
            let splits = vec![
                FileSplit { path: path.clone(), start: 0, end: cut, offset: 0 },
                FileSplit { path: path.clone(), start: cut, end: len, offset: cut },
            ];
            let mut first = reader(splits, 3);
            let mut cx = Context::from_waker(noop_waker_ref());
            let mut out = Vec::new();
            for _ in 0..polls {
                if let Poll::Ready(Ok(ReaderStatus::EndOfInput)) = first.poll_next(&mut cx, &mut out) {
                    break;
                }
            }
            let mut restored = reader(first.snapshot_splits(), 3);
            loop {
                match restored.poll_next(&mut cx, &mut out) {
                    Poll::Ready(Ok(ReaderStatus::EndOfInput)) => break,
                    Poll::Ready(Ok(ReaderStatus::MoreAvailable)) => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            prop_assert_eq!(out.into_iter().map(|r| r.value).collect::<Vec<_>>(), lines);
        }

        /// Any set of byte ranges covering a file yields every line exactly once, in order.
        #[test]
        fn byte_range_splits_read_each_line_once(
            lines in proptest::collection::vec("[a-z ]{0,12}", 0..60),
            cuts in proptest::collection::vec(0u64..1000, 0..6),
            trailing_newline in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("in.txt");
            let mut text = lines.join("\n");
            if trailing_newline && !lines.is_empty() { text.push('\n'); }
            std::fs::write(&path, &text).unwrap();
            let len = text.len() as u64;
            let mut points: Vec<u64> = cuts.into_iter().map(|c| c % (len + 1)).collect();
            points.push(0);
            points.push(len);
            points.sort_unstable();
            points.dedup();
            let mut all = Vec::new();
            for w in points.windows(2) {
                all.extend(read_split(FileSplit { path: path.clone(), start: w[0], end: w[1], offset: w[0] }));
            }
            let expected: Vec<String> = if text.is_empty() { vec![] } else {
                text.strip_suffix('\n').unwrap_or(&text).split('\n').map(str::to_string).collect()
            };
            prop_assert_eq!(all, expected);
        }
    }
}
