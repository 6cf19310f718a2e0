use super::{Printable, SinkFunction};
use crate::functions::RuntimeContext;
use brook_types::{Batch, Result};
use std::io::Write;

/// `print()`: one line per record on stdout (or stderr), prefixed with `N> ` (the
/// 1-based subtask index) when the sink runs with parallelism above 1, as in Flink.
#[derive(Clone)]
pub struct PrintSink {
    prefix: String,
    to_stderr: bool,
    sink_identifier: Option<String>,
}

impl PrintSink {
    pub fn new(sink_identifier: Option<String>, to_stderr: bool) -> Self {
        Self { prefix: String::new(), to_stderr, sink_identifier }
    }
}

impl<T: Printable + Send> SinkFunction<T> for PrintSink {
    fn open(&mut self, ctx: &RuntimeContext) -> Result<()> {
        self.prefix = match (&self.sink_identifier, ctx.parallelism > 1) {
            (Some(id), true) => format!("{id}:{}> ", ctx.subtask_index + 1),
            (Some(id), false) => format!("{id}> "),
            (None, true) => format!("{}> ", ctx.subtask_index + 1),
            (None, false) => String::new(),
        };
        Ok(())
    }

    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let mut text = String::with_capacity(batch.len() * 16);
        for r in &batch {
            text.push_str(&self.prefix);
            r.value.write_text(&mut text);
            text.push('\n');
        }
        // A closed stdout (e.g. `| head`) is not an error of the job.
        let _ = if self.to_stderr {
            std::io::stderr().lock().write_all(text.as_bytes())
        } else {
            std::io::stdout().lock().write_all(text.as_bytes())
        };
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let _ = std::io::stdout().flush();
        Ok(())
    }
}
