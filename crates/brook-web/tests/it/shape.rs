//! Compares the shape of Brook's answers with real Flink 2.3 answers
//! (`tests/fixtures/`, copied from /work/shared/flink-rest-samples): every field of
//! the sample must be in Brook's answer with the same JSON type, recursively; values
//! may differ, and Brook may add fields. For arrays, every sample element must match
//! some element of Brook's and every element of Brook's some sample element (a
//! source node has no `inputs`, another node has); an empty array on either side
//! matches. A `null` in the sample matches any value, but the field must be there.

use serde_json::Value;

/// A sample from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where `actual` differs in shape from `expected`, one line per difference.
pub fn differences(expected: &Value, actual: &Value, path: &str) -> Vec<String> {
    match (expected, actual) {
        (Value::Null, _) => vec![],
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .flat_map(|(key, ev)| {
                let at = format!("{path}.{key}");
                match a.get(key) {
                    None => vec![format!("{at}: missing (Flink has a {})", kind(ev))],
                    Some(av) => differences(ev, av, &at),
                }
            })
            .collect(),
        (Value::Array(e), Value::Array(a)) => {
            if e.is_empty() || a.is_empty() {
                return vec![];
            }
            let best = |x: &Value, candidates: &[Value], swap: bool, at: &str| -> Vec<String> {
                candidates
                    .iter()
                    .map(|c| if swap { differences(x, c, at) } else { differences(c, x, at) })
                    .min_by_key(Vec::len)
                    .unwrap_or_default()
            };
            let mut out = Vec::new();
            for (i, ev) in e.iter().enumerate() {
                out.extend(best(ev, a, true, &format!("{path}[sample {i}]")));
            }
            for (i, av) in a.iter().enumerate() {
                out.extend(best(av, e, false, &format!("{path}[{i}]")));
            }
            out.sort();
            out.dedup();
            out
        }
        (e, a) if kind(e) == kind(a) => vec![],
        (e, a) => vec![format!("{path}: Flink has a {}, Brook a {} ({a})", kind(e), kind(a))],
    }
}

/// Panics listing every difference in shape between Brook's answer and the sample.
pub fn assert_same_shape(sample: &str, actual: &Value) {
    let diffs = differences(&fixture(sample), actual, "$");
    assert!(
        diffs.is_empty(),
        "{sample}: Brook's answer differs in shape:\n{}\nBrook's answer: {actual}",
        diffs.join("\n")
    );
}

#[test]
fn the_comparison_finds_missing_fields_and_other_types() {
    use serde_json::json;
    let expected = json!({ "a": 1, "b": { "c": "x", "d": [ { "e": true }, { "e": false, "f": 1 } ] }, "n": null });
    let same = json!({ "a": 2, "b": { "c": "y", "d": [ { "e": true }, { "e": true, "f": 2, "g": 0 } ] }, "n": 3 });
    assert!(differences(&expected, &same, "$").is_empty());
    assert_eq!(
        differences(&expected, &json!({ "a": "2", "b": { "d": [ { "e": 1 } ] } }), "$"),
        vec![
            "$.a: Flink has a number, Brook a string (\"2\")".to_string(),
            "$.b.c: missing (Flink has a string)".to_string(),
            "$.b.d[0].e: Flink has a boolean, Brook a number (1)".to_string(),
            "$.b.d[sample 0].e: Flink has a boolean, Brook a number (1)".to_string(),
            "$.b.d[sample 1].e: Flink has a boolean, Brook a number (1)".to_string(),
            "$.b.d[sample 1].f: missing (Flink has a number)".to_string(),
            "$.n: missing (Flink has a null)".to_string(),
        ]
    );
}
