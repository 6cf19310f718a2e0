//! q0, q1, q2, q10, q13, q14, q21, q22: one row (or none) per bid.

use super::*;

const URL_WITH_ID: &str = "https://www.nexmark.com/x/y/z/item.htm?query=1&channel_id=123";
const URL_WITHOUT_ID: &str = "https://www.nexmark.com/p/q/r/item.htm?query=1";

/// A person and an auction (no rows from either) and five bids:
/// - 1001 @1000: Google, price 100 → q1 90.800; 1001 % 123 = 17.
/// - 1002 @2000: channel-7 whose URL has `channel_id=123`; its extra `a,"b"`
///   needs CSV quoting.
/// - 1107 @09:00: Apple, price 1,101,322 → 0.908 × = 1,000,000.376 (just inside
///   q14's lower bound); 1107 = 9 × 123.
/// - 1230 @19:00: channel-9 without `channel_id` (q21 drops it), price
///   55,066,079 → 49,999,999.732 (just inside the upper bound); 1230 = 10 × 123.
/// - 10001 @05:00: `BAIDU` (q21 lower-cases), a URL without `/` (q22: NULLs),
///   price 50,000,000 → 45,400,000.000; 10001 % 10000 = 1 (q13).
fn events() -> Vec<Event> {
    vec![
        person(1000, "Peter Smith", "Bend", "OR", 0),
        auction(1001, 1000, 10, 0, 5000),
        bid_with(1001, 2000, 100, 1000, "Google", URL, "e"),
        bid_with(1002, 2001, 250, 2000, "channel-7", URL_WITH_ID, "a,\"b\""),
        bid_with(1107, 2002, 1_101_322, 32_400_000, "Apple", URL, "ccc"),
        bid_with(1230, 2003, 55_066_079, 68_400_000, "channel-9", URL_WITHOUT_ID, "cac"),
        bid_with(10001, 2004, 50_000_000, 18_000_000, "BAIDU", "channel_id=5&x=1", "c"),
    ]
}

#[test]
fn q0_passes_every_bid_through() {
    assert_rows_str(
        "q0",
        &events(),
        &[
            "1001,2000,100,1000,e",
            "1002,2001,250,2000,\"a,\"\"b\"\"\"",
            "1107,2002,1101322,32400000,ccc",
            "1230,2003,55066079,68400000,cac",
            "10001,2004,50000000,18000000,c",
        ],
    );
}

#[test]
fn q1_converts_prices_to_exact_euro_decimals() {
    assert_rows_str(
        "q1",
        &events(),
        &[
            "1001,2000,90.800,1000,e",
            "1002,2001,227.000,2000,\"a,\"\"b\"\"\"",
            "1107,2002,1000000.376,32400000,ccc",
            "1230,2003,49999999.732,68400000,cac",
            "10001,2004,45400000.000,18000000,c",
        ],
    );
}

#[test]
fn q2_selects_auctions_divisible_by_123() {
    assert_rows_str("q2", &events(), &["1107,1101322", "1230,55066079"]);
}

#[test]
fn q10_adds_date_and_minute() {
    assert_rows_str(
        "q10",
        &events(),
        &[
            "1001,2000,100,1000,e,1970-01-01,00:00",
            "1002,2001,250,2000,\"a,\"\"b\"\"\",1970-01-01,00:00",
            "1107,2002,1101322,32400000,ccc,1970-01-01,09:00",
            "1230,2003,55066079,68400000,cac,1970-01-01,19:00",
            "10001,2004,50000000,18000000,c,1970-01-01,05:00",
        ],
    );
}

#[test]
fn q10_writes_files_partitioned_by_date_and_minute() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bid");
    for parallelism in [1, 4] {
        let _ = std::fs::remove_dir_all(&out);
        let env = environment(parallelism);
        let source = env.from_collection(events()).set_parallelism(1);
        build_query(&env, "q10", with_nexmark_watermarks(source, true), QuerySink::File(out.clone())).unwrap();
        env.execute("nexmark q10 files").unwrap();
        let mut found = Vec::new();
        for dt in std::fs::read_dir(&out).unwrap() {
            let dt = dt.unwrap().path();
            for hm in std::fs::read_dir(&dt).unwrap() {
                let hm = hm.unwrap().path();
                for part in std::fs::read_dir(&hm).unwrap() {
                    let text = std::fs::read_to_string(part.unwrap().path()).unwrap();
                    for line in text.lines() {
                        let partition = hm.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
                        found.push(format!("{partition}: {line}"));
                    }
                }
            }
        }
        found.sort();
        assert_eq!(
            found,
            vec![
                "dt=1970-01-01/hm=00%3A00: 1001,2000,100,1000,e",
                "dt=1970-01-01/hm=00%3A00: 1002,2001,250,2000,\"a,\"\"b\"\"\"",
                "dt=1970-01-01/hm=05%3A00: 10001,2004,50000000,18000000,c",
                "dt=1970-01-01/hm=09%3A00: 1107,2002,1101322,32400000,ccc",
                "dt=1970-01-01/hm=19%3A00: 1230,2003,55066079,68400000,cac",
            ],
            "at parallelism {parallelism}"
        );
    }
}

#[test]
fn q13_joins_the_side_table_on_auction_mod_10000() {
    assert_rows_str(
        "q13",
        &events(),
        &[
            "1001,2000,100,1000,1001",
            "1002,2001,250,2000,1002",
            "1107,2002,1101322,32400000,1107",
            "1230,2003,55066079,68400000,1230",
            "10001,2004,50000000,18000000,1",
        ],
    );
}

#[test]
fn q14_keeps_prices_within_bounds_with_time_of_day_and_c_count() {
    assert_rows_str(
        "q14",
        &events(),
        &[
            "1107,2002,1000000.376,dayTime,32400000,ccc,3",
            "1230,2003,49999999.732,otherTime,68400000,cac,2",
            "10001,2004,45400000.000,nightTime,18000000,c,1",
        ],
    );
}

#[test]
fn q21_takes_hot_channel_ids_or_the_url_parameter() {
    assert_rows_str(
        "q21",
        &events(),
        &[
            "1001,2000,100,Google,1",
            "1002,2001,250,channel-7,123",
            "1107,2002,1101322,Apple,0",
            "10001,2004,50000000,BAIDU,3",
        ],
    );
}

#[test]
fn q22_splits_url_directories_with_nulls_when_missing() {
    assert_rows_str(
        "q22",
        &events(),
        &[
            "1001,2000,100,Google,a,b,c",
            "1002,2001,250,channel-7,x,y,z",
            "1107,2002,1101322,Apple,a,b,c",
            "1230,2003,55066079,channel-9,p,q,r",
            "10001,2004,50000000,BAIDU,,,",
        ],
    );
}
