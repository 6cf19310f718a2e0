//! `socket-window-wordcount`: Flink's SocketWindowWordCount example.
//!
//! Reads lines from a TCP server (e.g. `nc -lk 9999`), splits them on whitespace,
//! and counts each word in 5-second tumbling processing-time windows, printing
//! `word : count` when a window closes. Unlike Flink's example, empty tokens
//! (from repeated spaces) are not counted. As in Flink, a window still open when
//! the server closes the connection is not emitted (processing-time windows do not
//! fire at end of input).

use brook_api::{Printable, StreamExecutionEnvironment};
use brook_runtime::window::TumblingProcessingTimeWindows;
use clap::Parser;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "socket-window-wordcount",
    bin_name = "brook run socket-window-wordcount",
    about = "Counts words from a socket in 5-second windows (Flink's SocketWindowWordCount)"
)]
struct Args {
    /// Host of the server sending text.
    #[arg(long, default_value = "localhost")]
    hostname: String,
    /// Port of the server sending text.
    #[arg(long)]
    port: u16,
    /// Window size in seconds.
    #[arg(long, default_value_t = 5)]
    window_seconds: u64,
}

/// A word and how often it occurred in a window (Flink's `WordWithCount`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WordWithCount {
    pub word: String,
    pub count: i64,
}

impl Printable for WordWithCount {
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.word);
        out.push_str(" : ");
        out.push_str(&self.count.to_string());
    }
}

pub fn build(env: &StreamExecutionEnvironment, args: &[String]) -> anyhow::Result<String> {
    let args =
        Args::try_parse_from(std::iter::once("socket-window-wordcount".to_string()).chain(args.iter().cloned()))?;
    anyhow::ensure!(args.window_seconds > 0, "--window-seconds must be at least 1");
    env.socket_text_stream(&args.hostname, args.port)
        .flat_map(|line: String| {
            line.split_whitespace().map(|w| WordWithCount { word: w.to_string(), count: 1 }).collect::<Vec<_>>()
        })
        .name("Split Words")
        .key_by_ref(|w: &WordWithCount| &w.word)
        .window(TumblingProcessingTimeWindows::of(Duration::from_secs(args.window_seconds)))
        .reduce(|a: WordWithCount, b: WordWithCount| WordWithCount { word: a.word, count: a.count + b.count })
        .name("Window Counts")
        .print()
        .set_parallelism(1);
    Ok("Socket Window WordCount".to_string())
}
