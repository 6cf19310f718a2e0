//! Job submission as Flink's JobManager takes it (docs/design/rest.md, "Programs"):
//! `GET /jars` lists the programs the JobManager carries, one "jar" per program, and
//! `POST /jars/:jarid/run` runs one with Flink's `JarRunRequestBody`, through
//! `Dispatcher::submit_program`. A jar's id is the program's name.

use crate::error::RestError;
use crate::routes::{Answer, AppState, ok};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use brook_cluster::ProgramSpec;
use brook_types::config::{Configuration, options};
use brook_types::{BrookError, JobId};
use serde_json::{Map, Value, json};

/// `GET /jars`: Flink's `JarListInfo`, one entry per program of the catalog.
pub async fn list(State(state): State<AppState>) -> Answer {
    let programs = state.cluster.dispatcher().catalog().map(|c| c.programs()).unwrap_or_default();
    let files: Vec<Value> = programs
        .into_iter()
        .map(|p| {
            json!({
                "id": p.name,
                "name": p.name,
                "uploaded": state.started_ms,
                "entry": [{ "name": p.name, "description": p.description }],
            })
        })
        .collect();
    ok(json!({ "address": format!("http://{}", state.address), "files": files }))
}

/// The fields of Flink's `JarRunRequestBody` Brook reads.
#[derive(Debug, Default, PartialEq)]
pub struct RunRequest {
    pub args: Vec<String>,
    pub parallelism: Option<usize>,
    pub savepoint_path: Option<String>,
    pub allow_non_restored_state: bool,
    pub job_id: Option<JobId>,
    pub configuration: Vec<(String, String)>,
}

const BODY: &str = "JarRunRequestBody";

fn bad_field(field: &str, expected: &str, got: &Value) -> RestError {
    RestError::bad_request(format!(
        "Request did not match expected format {BODY}: field '{field}' must be {expected}, got {got}."
    ))
}

/// Parses the body; an empty body means every default. Errors name the field.
pub fn parse_run_request(body: &[u8]) -> Result<RunRequest, RestError> {
    let mut request = RunRequest::default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(request);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RestError::bad_request(format!("Request did not match expected format {BODY}: {e}.")))?;
    let Value::Object(fields) = value else {
        return Err(RestError::bad_request(format!(
            "Request did not match expected format {BODY}: expected a JSON object, got {value}."
        )));
    };
    let present = |name: &str| fields.get(name).filter(|v| !v.is_null());
    if let Some(list) = present("programArgsList") {
        let items = list.as_array().ok_or_else(|| bad_field("programArgsList", "an array of strings", list))?;
        for item in items {
            let arg = item.as_str().ok_or_else(|| bad_field("programArgsList", "an array of strings", list))?;
            request.args.push(arg.to_string());
        }
    } else if let Some(args) = present("programArgs") {
        let text = args.as_str().ok_or_else(|| bad_field("programArgs", "a string", args))?;
        request.args = tokenize(text).map_err(|why| bad_field("programArgs", why, args))?;
    }
    if let Some(p) = present("parallelism") {
        // Flink treats a parallelism of 0 or less as "not given" (-1 is its default).
        let n = p.as_i64().ok_or_else(|| bad_field("parallelism", "an integer", p))?;
        if n > 0 {
            request.parallelism = Some(usize::try_from(n).map_err(|_| bad_field("parallelism", "an integer", p))?);
        }
    }
    if let Some(path) = present("savepointPath") {
        let path = path.as_str().ok_or_else(|| bad_field("savepointPath", "a string", path))?;
        if !path.is_empty() {
            request.savepoint_path = Some(path.to_string());
        }
    }
    if let Some(allow) = present("allowNonRestoredState") {
        request.allow_non_restored_state =
            allow.as_bool().ok_or_else(|| bad_field("allowNonRestoredState", "true or false", allow))?;
    }
    if let Some(id) = present("jobId") {
        let text = id.as_str().ok_or_else(|| bad_field("jobId", "a job id (32 hex digits)", id))?;
        request.job_id = Some(text.parse().map_err(|_| bad_field("jobId", "a job id (32 hex digits)", id))?);
    }
    if let Some(config) = present("flinkConfiguration") {
        let map: &Map<String, Value> =
            config.as_object().ok_or_else(|| bad_field("flinkConfiguration", "an object of key: value", config))?;
        for (key, value) in map {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                other => return Err(bad_field(&format!("flinkConfiguration.{key}"), "a string", other)),
            };
            request.configuration.push((key.clone(), value));
        }
    }
    Ok(request)
}

/// Splits `programArgs` as a shell would: on whitespace, with '…' and "…" quoting.
fn tokenize(text: &str) -> Result<Vec<String>, &'static str> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.get_or_insert_with(String::new).push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            None if c.is_whitespace() => args.extend(current.take()),
            None => current.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err("a string with balanced quotes");
    }
    args.extend(current.take());
    Ok(args)
}

/// The job's configuration: the cluster's (without what only applied to the job it
/// was started with: the state to restore), then the request's.
pub fn job_configuration(cluster: &Configuration, request: &RunRequest) -> Result<Configuration, RestError> {
    let mut config = cluster.clone();
    config.remove(&options::STATE_RECOVERY_PATH);
    config.remove(&options::STATE_RECOVERY_IGNORE_UNCLAIMED_STATE);
    let invalid = |e: BrookError| RestError::bad_request(format!("Request did not match expected format {BODY}: {e}."));
    for (key, value) in &request.configuration {
        config.set(key, value, "flinkConfiguration").map_err(invalid)?;
    }
    if let Some(p) = request.parallelism {
        config.set(options::PARALLELISM_DEFAULT.key, &p.to_string(), "parallelism").map_err(invalid)?;
    }
    if let Some(path) = &request.savepoint_path {
        config.set(options::STATE_RECOVERY_PATH.key, path, "savepointPath").map_err(invalid)?;
        if request.allow_non_restored_state {
            config
                .set(options::STATE_RECOVERY_IGNORE_UNCLAIMED_STATE.key, "true", "allowNonRestoredState")
                .map_err(invalid)?;
        }
    }
    Ok(config)
}

/// `POST /jars/:jarid/run` → 200 `{"jobid": "…"}`.
pub async fn run(State(state): State<AppState>, Path(program): Path<String>, body: Bytes) -> Answer {
    let dispatcher = state.cluster.dispatcher();
    let Some(catalog) = dispatcher.catalog() else {
        return Err(RestError::not_found(format!(
            "Program '{program}' not found: this JobManager carries no programs; submit the job from its own binary."
        )));
    };
    if !catalog.carries(&program) {
        let known: Vec<String> = catalog.programs().into_iter().map(|p| p.name).collect();
        return Err(RestError::not_found(format!(
            "Program '{program}' not found; this JobManager carries: {} (GET /jars lists them).",
            known.join(", ")
        )));
    }
    let request = parse_run_request(&body)?;
    let config = job_configuration(&state.config, &request)?;
    let spec = ProgramSpec { program: program.clone(), args: request.args };
    let job_id = dispatcher.submit_program(spec, config, request.job_id).map_err(|e| {
        let status = match e {
            BrookError::NotEnoughSlots { .. } | BrookError::Cluster(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        RestError { status, message: format!("Could not run program '{program}': {e}") }
    })?;
    ok(json!({ "jobid": job_id.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_request_reads_flinks_fields() {
        let body = br#"{"programArgsList": ["--input", "a b.txt"], "parallelism": 2, "savepointPath": "/sp",
            "allowNonRestoredState": true, "jobId": "000000000000000000000000000000ff",
            "flinkConfiguration": {"execution.checkpointing.interval": "1 s", "taskmanager.numberOfTaskSlots": 4},
            "entryClass": null}"#;
        assert_eq!(
            parse_run_request(body).unwrap(),
            RunRequest {
                args: vec!["--input".into(), "a b.txt".into()],
                parallelism: Some(2),
                savepoint_path: Some("/sp".into()),
                allow_non_restored_state: true,
                job_id: Some(JobId(0xff)),
                configuration: vec![
                    ("execution.checkpointing.interval".into(), "1 s".into()),
                    ("taskmanager.numberOfTaskSlots".into(), "4".into()),
                ],
            }
        );
    }

    #[test]
    fn program_args_string_is_split_like_a_shell() {
        let request = parse_run_request(br#"{"programArgs": "--input 'a b.txt'  --x \"\" -p"}"#).unwrap();
        assert_eq!(request.args, vec!["--input", "a b.txt", "--x", "", "-p"]);
        assert_eq!(parse_run_request(b"").unwrap(), RunRequest::default());
        assert_eq!(parse_run_request(br#"{"parallelism": -1}"#).unwrap().parallelism, None);
    }

    #[test]
    fn bad_fields_are_named() {
        let message = |body: &[u8]| parse_run_request(body).unwrap_err().message;
        assert_eq!(
            message(br#"{"parallelism": "two"}"#),
            "Request did not match expected format JarRunRequestBody: field 'parallelism' must be an integer, got \"two\"."
        );
        assert_eq!(
            message(br#"{"programArgsList": [1]}"#),
            "Request did not match expected format JarRunRequestBody: field 'programArgsList' must be an array of strings, got [1]."
        );
        assert_eq!(
            message(br#"{"jobId": "xyz"}"#),
            "Request did not match expected format JarRunRequestBody: field 'jobId' must be a job id (32 hex digits), got \"xyz\"."
        );
        assert_eq!(
            message(br#"{"programArgs": "'open"}"#),
            "Request did not match expected format JarRunRequestBody: field 'programArgs' must be a string with balanced quotes, got \"'open\"."
        );
        assert!(message(b"[1]").contains("expected a JSON object, got [1]"));
    }
}
