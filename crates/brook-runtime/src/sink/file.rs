use super::{CsvRecord, Printable, SinkFunction};
use crate::functions::RuntimeContext;
use brook_types::{Batch, BrookError, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

/// Text (Flink's `toString`) or CSV lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Text,
    Csv,
}

/// Writes one line per record (at-least-once: lines written before a failure stay).
///
/// At parallelism 1 it writes the file `path`; above 1, `path` is a directory with
/// one file per subtask named `1`, `2`, … as Flink's `writeAsText` does.
pub struct FileSink<T> {
    path: PathBuf,
    format: FileFormat,
    writer: Option<BufWriter<File>>,
    file: PathBuf,
    line: String,
    _type: PhantomData<fn(T)>,
}

impl<T> Clone for FileSink<T> {
    /// A sink with the same settings that has not opened a file yet.
    fn clone(&self) -> Self {
        Self::new(self.path.clone(), self.format)
    }
}

impl<T> FileSink<T> {
    pub fn new(path: PathBuf, format: FileFormat) -> Self {
        Self { path, format, writer: None, file: PathBuf::new(), line: String::new(), _type: PhantomData }
    }
}

/// Records a file sink can write.
pub trait FileRecord: Printable + CsvRecord {}
impl<T: Printable + CsvRecord> FileRecord for T {}

impl<T: FileRecord + Send> SinkFunction<T> for FileSink<T> {
    fn open(&mut self, ctx: &RuntimeContext) -> Result<()> {
        self.file = if ctx.parallelism > 1 {
            std::fs::create_dir_all(&self.path)
                .map_err(|e| BrookError::io("cannot create output directory", &self.path, e))?;
            self.path.join((ctx.subtask_index + 1).to_string())
        } else {
            if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| BrookError::io("cannot create output directory", parent, e))?;
            }
            self.path.clone()
        };
        let file = File::create(&self.file).map_err(|e| BrookError::io("cannot create output file", &self.file, e))?;
        self.writer = Some(BufWriter::with_capacity(1 << 16, file));
        Ok(())
    }

    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let writer = self.writer.as_mut().expect("open runs before the first batch");
        for r in &batch {
            self.line.clear();
            match self.format {
                FileFormat::Text => r.value.write_text(&mut self.line),
                FileFormat::Csv => r.value.write_csv(&mut self.line),
            }
            self.line.push('\n');
            writer
                .write_all(self.line.as_bytes())
                .map_err(|e| BrookError::io("cannot write output file", &self.file, e))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.flush().map_err(|e| BrookError::io("cannot write output file", &self.file, e))?;
        }
        Ok(())
    }
}
