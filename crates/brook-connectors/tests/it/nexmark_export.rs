//! Export → read back gives the generator's events exactly; bad input says where.

use crate::support::{canonical, collect, env};
use brook_connectors::nexmark::{self, Event, ExportFormat, NexmarkConfig};

fn config() -> NexmarkConfig {
    NexmarkConfig { events_num: 12_345, seed: 7, ..NexmarkConfig::default() }
}

#[test]
fn export_then_read_back_gives_the_generated_events() {
    for (format, p) in [(ExportFormat::Csv, 2), (ExportFormat::Json, 3)] {
        let dir = tempfile::tempdir().unwrap();
        let summary = nexmark::export(&config(), 3, format, dir.path()).unwrap();
        assert_eq!((summary.persons, summary.auctions, summary.bids), (246, 740, 11_359));
        let expected: Vec<Event> = nexmark::merged_events(&config(), 3).collect();
        // Each file is in event-time order.
        for (kind, name) in ["person", "auction", "bid"].into_iter().enumerate() {
            let path = dir.path().join(format!("{name}.{}", format.extension()));
            let times: Vec<i64> = std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(|line| match format {
                    ExportFormat::Csv => nexmark::exported::parse_csv(kind as u8, line.as_bytes()),
                    ExportFormat::Json => nexmark::exported::parse_json(kind as u8, line.as_bytes()),
                })
                .map(|e| e.unwrap().date_time())
                .collect();
            assert!(!times.is_empty());
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "{name} is sorted by dateTime");
        }
        let env = env(p);
        let stream = nexmark::read_exported(&env, dir.path()).unwrap();
        let got = collect(&env, stream);
        assert_eq!(canonical(got), canonical(expected), "{format:?}");
    }
}

#[test]
fn the_csv_lines_are_the_documented_format() {
    let dir = tempfile::tempdir().unwrap();
    let config = NexmarkConfig { events_num: 50, ..NexmarkConfig::default() };
    nexmark::export(&config, 1, ExportFormat::Csv, dir.path()).unwrap();
    let person = std::fs::read_to_string(dir.path().join("person.csv")).unwrap();
    let Some(Event::Person(p)) = nexmark::merged_events(&config, 1).find(|e| e.event_type() == 0) else {
        panic!("50 events hold a person")
    };
    let expected = format!(
        "{},{},{},{},{},{},{},{}\n",
        p.id, p.name, p.email_address, p.credit_card, p.city, p.state, p.date_time, p.extra
    );
    assert_eq!(person, expected);
    assert!(person.starts_with("1001,"));
}

#[test]
fn a_malformed_line_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    nexmark::export(&NexmarkConfig { events_num: 500, ..NexmarkConfig::default() }, 1, ExportFormat::Csv, dir.path())
        .unwrap();
    let path = dir.path().join("bid.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_owned).collect();
    lines[6] = lines[6].replacen(',', ",x", 1);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let env = env(1);
    let stream = nexmark::read_exported(&env, dir.path()).unwrap();
    stream.collect();
    let error = env.execute("bad export").unwrap_err().to_string();
    let want = format!("{}:7: malformed bid record: column 2 (bidder) is not an integer: 'x", path.display());
    assert!(error.contains(&want), "{error}");
}

#[test]
fn a_missing_export_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let env = env(1);
    let Err(error) = nexmark::read_exported(&env, &missing) else { panic!("{} holds no export", missing.display()) };
    let error = error.to_string();
    assert_eq!(
        error,
        format!(
            "no exported Nexmark events in {0}: expected person.csv, auction.csv and bid.csv (write them with \
             `brook nexmark gen --out {0}`)",
            missing.display()
        )
    );
}

#[test]
fn a_source_reading_some_kinds_gives_exactly_their_events() {
    use brook_connectors::nexmark::{EventKind, ExportedSource};
    let dir = tempfile::tempdir().unwrap();
    nexmark::export(&config(), 3, ExportFormat::Csv, dir.path()).unwrap();
    for (kinds, types) in
        [(&[EventKind::Bid][..], &[2][..]), (&[EventKind::Person, EventKind::Auction][..], &[0, 1][..])]
    {
        let expected: Vec<Event> =
            nexmark::merged_events(&config(), 3).filter(|e| types.contains(&e.event_type())).collect();
        let env = env(2);
        let stream = nexmark::read_exported_kinds(&env, dir.path(), kinds).unwrap();
        let got = collect(&env, stream);
        assert_eq!(got.len(), expected.len(), "{kinds:?}");
        assert_eq!(canonical(got), canonical(expected), "{kinds:?}");
        let files: Vec<String> = ExportedSource::new(dir.path())
            .unwrap()
            .reading(kinds)
            .splits(2)
            .unwrap()
            .iter()
            .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let want: Vec<&str> =
            types.iter().flat_map(|&t| [["person.csv", "auction.csv", "bid.csv"][t as usize]; 2]).collect();
        assert_eq!(files, want, "{kinds:?}");
    }
}
