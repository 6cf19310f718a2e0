//! q10 — log to file system: every bid with `dt = DATE_FORMAT(dateTime,
//! 'yyyy-MM-dd')` and `hm = DATE_FORMAT(dateTime, 'HH:mm')`, written into
//! directories partitioned by them.
//!
//! With `QuerySink::File(dir)` each sink subtask writes the data columns
//! (`auction,bidder,price,dateTime,extra`; partition columns are in the path, as
//! in Flink's filesystem sink) to `dir/dt=<dt>/hm=<hh>%3A<mm>/part-<subtask>.csv`
//! (`:` escaped as Flink and Hive escape partition values). Deviation: files are
//! written at least once and closed at end of input; Flink's sink rolls files at
//! checkpoints and commits partitions with a `_SUCCESS` file. Other sinks get the
//! whole row, `dt` and `hm` included.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use super::time::{date, hour_minute};
use super::{QuerySink, emit as emit_rows};
use brook_api::{DataStream, RuntimeContext, SinkFunction};
use brook_connectors::nexmark::{Bid, Event};
use brook_types::{Batch, BrookError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// `(auction, bidder, price, dateTime, extra, dt, hm)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q10Row {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub date_time: i64,
    pub extra: String,
    pub dt: String,
    pub hm: String,
}

impl Q10Row {
    fn write_data_columns(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.bidder).int(self.price).int(self.date_time).str(&self.extra);
    }
}

impl CsvRow for Q10Row {
    fn write_csv(&self, out: &mut String) {
        self.write_data_columns(out);
        out.push(',');
        CsvLine::new(out).str(&self.dt).str(&self.hm);
    }
}

pub fn query(events: DataStream<Event>) -> DataStream<Q10Row> {
    bids(events)
        .map(|b: Bid| Q10Row {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            dt: date(b.date_time),
            hm: hour_minute(b.date_time),
            date_time: b.date_time,
            extra: b.extra,
        })
        .name("q10: Project")
}

/// Writes q10's rows: partitioned files for `QuerySink::File`, else as any query.
pub fn emit(rows: DataStream<Q10Row>, sink: &QuerySink) {
    match sink {
        QuerySink::File(dir) => {
            rows.sink_to(PartitionedCsvSink::new(dir.clone()), "Sink: Partitioned Files");
        }
        other => emit_rows(rows, other),
    }
}

/// One open file per partition directory this subtask has written to.
pub struct PartitionedCsvSink {
    dir: PathBuf,
    subtask: usize,
    files: HashMap<(String, String), BufWriter<File>>,
    line: String,
}

impl Clone for PartitionedCsvSink {
    fn clone(&self) -> Self {
        Self::new(self.dir.clone())
    }
}

impl PartitionedCsvSink {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, subtask: 0, files: HashMap::new(), line: String::new() }
    }

    /// `dir/dt=<dt>/hm=<hm with ':' as %3A>/part-<subtask>.csv`.
    pub fn file_path(dir: &std::path::Path, dt: &str, hm: &str, subtask: usize) -> PathBuf {
        dir.join(format!("dt={dt}")).join(format!("hm={}", hm.replace(':', "%3A"))).join(format!("part-{subtask}.csv"))
    }
}

impl SinkFunction<Q10Row> for PartitionedCsvSink {
    fn open(&mut self, ctx: &RuntimeContext) -> Result<()> {
        self.subtask = ctx.index_of_this_subtask();
        Ok(())
    }

    fn write_batch(&mut self, batch: Batch<Q10Row>) -> Result<()> {
        for record in batch {
            let row = record.value;
            let key = (row.dt.clone(), row.hm.clone());
            if !self.files.contains_key(&key) {
                let path = Self::file_path(&self.dir, &row.dt, &row.hm, self.subtask);
                let parent = path.parent().expect("a partition file has a directory");
                std::fs::create_dir_all(parent)
                    .map_err(|e| BrookError::io("cannot create q10 partition directory", parent, e))?;
                let file =
                    File::create(&path).map_err(|e| BrookError::io("cannot create q10 partition file", &path, e))?;
                self.files.insert(key.clone(), BufWriter::with_capacity(1 << 16, file));
            }
            self.line.clear();
            row.write_data_columns(&mut self.line);
            self.line.push('\n');
            let writer = self.files.get_mut(&key).expect("inserted above");
            writer
                .write_all(self.line.as_bytes())
                .map_err(|e| BrookError::io("cannot write q10 partition file", &self.dir, e))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        for writer in self.files.values_mut() {
            writer.flush().map_err(|e| BrookError::io("cannot flush q10 partition file", &self.dir, e))?;
        }
        self.files.clear();
        Ok(())
    }
}
