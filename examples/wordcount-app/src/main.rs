//! A Brook program written against the DataStream API (`brook::prelude`).
//!
//! ```sh
//! cargo run -p brook-example-wordcount -- FILE
//! ```
//!
//! Two pipelines run one after the other on embedded local clusters:
//!
//! 1. **word count** — read lines (from `FILE`, or a built-in text), split them
//!    into lowercased words, `key_by` word and `sum` the ones; BATCH mode prints
//!    each word's final count once, as `(word,count)`.
//! 2. **side output** — the same words go through a `process` function that
//!    sends words longer than [`LONG_WORD`] characters to an [`OutputTag`]; the
//!    main output counts the short words, the side output is printed on its own,
//!    with a `long> ` prefix.

use brook::prelude::*;
use std::path::PathBuf;

/// Words longer than this many characters go to the side output.
const LONG_WORD: usize = 10;

/// Read when no file is given.
const BUILT_IN_TEXT: &str = "\
The river flows, the river bends;
Brook carries every record downstream,
incomprehensibly fast, and counts what it sees.
Streams, streams, everywhere streams!";

fn main() -> anyhow::Result<()> {
    let input = std::env::args_os().nth(1).map(PathBuf::from);
    if let Some(path) = &input {
        anyhow::ensure!(path.exists(), "input file {} does not exist", path.display());
    }
    word_count(input.as_ref())?;
    long_words_to_a_side_output(input.as_ref())?;
    Ok(())
}

/// A fresh environment with 2 parallel subtasks in BATCH mode, so that each word's
/// final count is printed once.
fn environment() -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::get_execution_environment();
    env.set_parallelism(2).set_runtime_mode(RuntimeMode::Batch);
    env
}

/// The lines of `input`, or of the built-in text.
fn lines(env: &StreamExecutionEnvironment, input: Option<&PathBuf>) -> DataStream<String> {
    match input {
        Some(path) => env.read_text_file(path),
        None => env.from_collection(BUILT_IN_TEXT.lines().map(str::to_string).collect()),
    }
}

/// Lowercased words, split on every character that is not alphanumeric.
fn words(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// Pipeline 1: source → tokenize → key_by → sum → print.
fn word_count(input: Option<&PathBuf>) -> anyhow::Result<()> {
    let env = environment();
    lines(&env, input)
        .flat_map(|line: String| words(&line).map(|w| (w, 1i64)).collect::<Vec<_>>())
        .name("Tokenizer")
        .key_by(|(word, _): &(String, i64)| word.clone())
        .sum(|(_, n): &mut (String, i64)| n)
        .name("Counter")
        .print();
    println!("== word counts");
    let result = env.execute("word count")?;
    eprintln!("word count finished in {} ms", result.net_runtime.as_millis());
    Ok(())
}

/// Pipeline 2: short words are counted; long ones leave through a side output.
fn long_words_to_a_side_output(input: Option<&PathBuf>) -> anyhow::Result<()> {
    let env = environment();
    let long_words = OutputTag::<String>::new("long-words");
    let tag = long_words.clone();
    let short_words = lines(&env, input)
        .process(move |line: String, ctx: &mut Context<'_>, out: &mut Collector<(String, i64)>| {
            for word in words(&line) {
                if word.chars().count() > LONG_WORD {
                    ctx.output(&tag, word);
                } else {
                    out.collect((word, 1));
                }
            }
        })
        .name("Split by length");
    short_words
        .get_side_output(&long_words)
        .map(|word: String| format!("long> {word}"))
        .name("Label long words")
        .set_parallelism(1)
        .print()
        .set_parallelism(1);
    short_words
        .key_by(|(word, _): &(String, i64)| word.clone())
        .sum(|(_, n): &mut (String, i64)| n)
        .name("Counter")
        .print();
    println!("== short word counts and long words (side output)");
    env.execute("long words")?;
    Ok(())
}
