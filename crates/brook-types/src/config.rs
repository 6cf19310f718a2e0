//! Configuration: typed options with Flink's key names.
//!
//! Every option Brook reads is a [`ConfigOption`] constant in [`options`], with its
//! key, default and description; [`options::ALL`] lists them, `docs/configuration.md`
//! is generated from that list (`brook config docs`), and unknown keys are rejected
//! with a hint. Values come from a YAML file (nested or flat keys, as Flink's
//! `config.yaml`), then `-D key=value` overrides.

use crate::error::{BrookError, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The type of an option's value, for validation and documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    Integer,
    Boolean,
    Duration,
    String,
    /// One of a fixed set of words (case-insensitive).
    Enum(&'static [&'static str]),
}

impl OptionType {
    fn describe(self) -> String {
        match self {
            OptionType::Integer => "Integer".into(),
            OptionType::Boolean => "Boolean".into(),
            OptionType::Duration => "Duration".into(),
            OptionType::String => "String".into(),
            OptionType::Enum(values) => format!("Enum ({})", values.join(", ")),
        }
    }
}

/// One configuration option.
#[derive(Debug)]
pub struct ConfigOption {
    pub key: &'static str,
    /// Older keys that mean the same.
    pub fallback_keys: &'static [&'static str],
    pub ty: OptionType,
    /// The default as written in a config file; empty if it is computed.
    pub default: &'static str,
    /// How a computed default is found (shown in the docs instead of `default`).
    pub computed_default: Option<(&'static str, fn() -> String)>,
    pub description: &'static str,
}

impl ConfigOption {
    fn default_value(&self) -> String {
        match self.computed_default {
            Some((_, f)) => f(),
            None => self.default.to_string(),
        }
    }
}

/// All options Brook knows.
pub mod options {
    use super::{ConfigOption, OptionType};

    fn num_cores() -> String {
        std::thread::available_parallelism().map_or(1, |n| n.get()).to_string()
    }

    pub const PARALLELISM_DEFAULT: ConfigOption = ConfigOption {
        key: "parallelism.default",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "1",
        computed_default: None,
        description: "Parallelism of operators that do not set their own. `brook run` uses it (1 unless set); \
                      a program's own local environment uses the number of CPU cores when the key is not set, \
                      as Flink's local environment does.",
    };
    pub const MAX_PARALLELISM: ConfigOption = ConfigOption {
        key: "pipeline.max-parallelism",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "-1",
        computed_default: None,
        description: "Maximum parallelism (number of key groups) of keyed operators; -1 means 128, or \
                      more for operators of parallelism above 85 as in Flink.",
    };
    pub const RUNTIME_MODE: ConfigOption = ConfigOption {
        key: "execution.runtime-mode",
        fallback_keys: &[],
        ty: OptionType::Enum(&["STREAMING", "BATCH", "AUTOMATIC"]),
        default: "STREAMING",
        computed_default: None,
        description: "STREAMING emits results continuously; BATCH (bounded inputs only) emits keyed \
                      aggregations once per key at the end; AUTOMATIC picks BATCH when every source is bounded.",
    };
    pub const BUFFER_TIMEOUT_ENABLED: ConfigOption = ConfigOption {
        key: "execution.buffer-timeout.enabled",
        fallback_keys: &[],
        ty: OptionType::Boolean,
        default: "true",
        computed_default: None,
        description: "Whether partly filled output buffers are flushed after the buffer timeout; when false \
                      they are sent only when full (or at end of input).",
    };
    pub const BUFFER_TIMEOUT: ConfigOption = ConfigOption {
        key: "execution.buffer-timeout.interval",
        fallback_keys: &["execution.buffer-timeout"],
        ty: OptionType::Duration,
        default: "100 ms",
        computed_default: None,
        description: "Longest time a record waits in a partly filled output buffer. 0 flushes after every \
                      batch a task processes (a socket source's batch is what arrived at once; set \
                      execution.batch-size=1 for record-by-record flushing).",
    };
    pub const OPERATOR_CHAINING: ConfigOption = ConfigOption {
        key: "pipeline.operator-chaining.enabled",
        fallback_keys: &["pipeline.operator-chaining"],
        ty: OptionType::Boolean,
        default: "true",
        computed_default: None,
        description: "Whether operators connected by forward edges with equal parallelism are fused into one task.",
    };
    pub const AUTO_WATERMARK_INTERVAL: ConfigOption = ConfigOption {
        key: "pipeline.auto-watermark-interval",
        fallback_keys: &[],
        ty: OptionType::Duration,
        default: "200 ms",
        computed_default: None,
        description: "How often assign_timestamps_and_watermarks asks its watermark generator for a watermark \
                      (on_periodic_emit) and checks for idleness. 0 disables periodic watermarks; \
                      punctuated generators still emit from on_event.",
    };
    pub const NUMBER_OF_TASK_SLOTS: ConfigOption = ConfigOption {
        key: "taskmanager.numberOfTaskSlots",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "",
        computed_default: Some(("number of CPU cores", num_cores)),
        description: "Task slots each TaskManager offers; a slot runs one parallel slice of a job.",
    };
    pub const LOCAL_NUMBER_TASK_MANAGER: ConfigOption = ConfigOption {
        key: "local.number-taskmanager",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "1",
        computed_default: None,
        description: "TaskManagers the local MiniCluster starts.",
    };
    pub const BUFFERS_PER_CHANNEL: ConfigOption = ConfigOption {
        key: "taskmanager.network.memory.buffers-per-channel",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "2",
        computed_default: None,
        description: "Exclusive buffers (credits) each input channel has.",
    };
    pub const FLOATING_BUFFERS_PER_GATE: ConfigOption = ConfigOption {
        key: "taskmanager.network.memory.floating-buffers-per-gate",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "8",
        computed_default: None,
        description: "Buffers an input gate shares among its channels on top of the exclusive ones.",
    };
    pub const BATCH_SIZE: ConfigOption = ConfigOption {
        key: "execution.batch-size",
        fallback_keys: &[],
        ty: OptionType::Integer,
        default: "1024",
        computed_default: None,
        description: "Brook-specific: records per output buffer. A buffer is sent when it holds this many \
                      records or when the buffer timeout passes (Flink sizes buffers in bytes instead).",
    };

    /// Every option, in documentation order.
    pub const ALL: &[&ConfigOption] = &[
        &PARALLELISM_DEFAULT,
        &MAX_PARALLELISM,
        &RUNTIME_MODE,
        &BUFFER_TIMEOUT_ENABLED,
        &BUFFER_TIMEOUT,
        &BATCH_SIZE,
        &OPERATOR_CHAINING,
        &AUTO_WATERMARK_INTERVAL,
        &NUMBER_OF_TASK_SLOTS,
        &LOCAL_NUMBER_TASK_MANAGER,
        &BUFFERS_PER_CHANNEL,
        &FLOATING_BUFFERS_PER_GATE,
    ];
}

/// A set of configuration values with where each came from.
#[derive(Clone, Debug, Default)]
pub struct Configuration {
    values: BTreeMap<String, (String, String)>,
}

impl Configuration {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads a YAML file; nested maps are flattened to dotted keys
    /// (`taskmanager: {numberOfTaskSlots: 4}` is `taskmanager.numberOfTaskSlots`).
    pub fn load_yaml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| BrookError::ConfigFile {
            path: path.to_path_buf(),
            reason: format!("{e}; pass an existing file to --config"),
        })?;
        let mut config = Self::new();
        config.merge_yaml(&text, &path.display().to_string()).map_err(|e| match e {
            BrookError::ConfigFile { reason, .. } => BrookError::ConfigFile { path: path.to_path_buf(), reason },
            other => other,
        })?;
        Ok(config)
    }

    /// Merges YAML text; `origin` names the source in errors.
    pub fn merge_yaml(&mut self, text: &str, origin: &str) -> Result<()> {
        let value: serde_yaml::Value = serde_yaml::from_str(text)
            .map_err(|e| BrookError::ConfigFile { path: origin.into(), reason: format!("not valid YAML: {e}") })?;
        let mut flat = Vec::new();
        flatten("", &value, &mut flat).map_err(|reason| BrookError::ConfigFile { path: origin.into(), reason })?;
        for (key, value) in flat {
            self.set(&key, &value, origin)?;
        }
        Ok(())
    }

    /// Sets one `key=value` pair given as `-D key=value`.
    pub fn set_dynamic(&mut self, pair: &str) -> Result<()> {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(BrookError::InvalidArgument(format!(
                "-D {pair}: expected key=value, e.g. -D parallelism.default=2"
            )));
        };
        self.set(key.trim(), value.trim(), "-D")
    }

    /// Sets a value after checking that the key is known and the value parses.
    pub fn set(&mut self, key: &str, value: &str, origin: &str) -> Result<()> {
        let option = lookup(key).ok_or_else(|| BrookError::UnknownConfigKey {
            key: key.to_string(),
            origin: origin.to_string(),
            hint: hint_for(key),
        })?;
        validate(option, value).map_err(|reason| BrookError::InvalidConfigValue {
            key: key.to_string(),
            value: value.to_string(),
            origin: origin.to_string(),
            reason,
        })?;
        self.values.insert(option.key.to_string(), (value.to_string(), origin.to_string()));
        Ok(())
    }

    /// Overlays `other` on `self` (other wins).
    pub fn merge(&mut self, other: &Configuration) {
        for (k, v) in &other.values {
            self.values.insert(k.clone(), v.clone());
        }
    }

    /// The raw value, or the default.
    pub fn get_raw(&self, option: &ConfigOption) -> String {
        self.values.get(option.key).map_or_else(|| option.default_value(), |(v, _)| v.clone())
    }

    /// Whether the key was set explicitly.
    pub fn contains(&self, option: &ConfigOption) -> bool {
        self.values.contains_key(option.key)
    }

    pub fn get_i64(&self, option: &ConfigOption) -> i64 {
        let raw = self.get_raw(option);
        raw.trim().parse().expect("integer options are validated when set")
    }

    /// A positive count (slots, parallelism, …).
    pub fn get_usize(&self, option: &ConfigOption) -> usize {
        self.get_i64(option).max(0) as usize
    }

    pub fn get_bool(&self, option: &ConfigOption) -> bool {
        parse_bool(&self.get_raw(option)).expect("boolean options are validated when set")
    }

    pub fn get_duration(&self, option: &ConfigOption) -> Duration {
        parse_duration(&self.get_raw(option)).expect("duration options are validated when set")
    }

    /// Enum options in upper case.
    pub fn get_enum(&self, option: &ConfigOption) -> String {
        self.get_raw(option).trim().to_ascii_uppercase()
    }

    /// Explicitly set pairs, for display (`/jobmanager/config`).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, (v, _))| (k.as_str(), v.as_str()))
    }
}

fn lookup(key: &str) -> Option<&'static ConfigOption> {
    options::ALL.iter().copied().find(|o| o.key == key || o.fallback_keys.contains(&key))
}

fn hint_for(key: &str) -> String {
    let best = options::ALL.iter().map(|o| (edit_distance(key, o.key), o.key)).min().filter(|(d, _)| *d <= 4);
    match best {
        Some((_, k)) => format!("; did you mean '{k}'? (see docs/configuration.md)"),
        None => "; see docs/configuration.md for the keys Brook knows".to_string(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn flatten(prefix: &str, value: &serde_yaml::Value, out: &mut Vec<(String, String)>) -> Result<(), String> {
    use serde_yaml::Value;
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let k = match k {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported key {other:?}")),
                };
                let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten(&key, v, out)?;
            }
            Ok(())
        }
        Value::Null if prefix.is_empty() => Ok(()),
        Value::Null => Err(format!("key '{prefix}' has no value")),
        Value::String(s) => {
            out.push((prefix.to_string(), s.clone()));
            Ok(())
        }
        Value::Number(n) => {
            out.push((prefix.to_string(), n.to_string()));
            Ok(())
        }
        Value::Bool(b) => {
            out.push((prefix.to_string(), b.to_string()));
            Ok(())
        }
        Value::Sequence(_) | Value::Tagged(_) => Err(format!("key '{prefix}': lists are not supported")),
    }
}

fn validate(option: &ConfigOption, value: &str) -> Result<(), String> {
    match option.ty {
        OptionType::Integer => value.trim().parse::<i64>().map(|_| ()).map_err(|_| "expected an integer".to_string()),
        OptionType::Boolean => parse_bool(value).map(|_| ()),
        OptionType::Duration => parse_duration(value).map(|_| ()),
        OptionType::String => Ok(()),
        OptionType::Enum(values) => {
            if values.iter().any(|v| v.eq_ignore_ascii_case(value.trim())) {
                Ok(())
            } else {
                Err(format!("expected one of {}", values.join(", ")))
            }
        }
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected true or false".to_string()),
    }
}

/// Parses Flink's duration syntax: a number and an optional unit
/// (`ms`, `s`, `min`, `h`, `d` and their long forms); no unit means milliseconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 =
        num.parse().map_err(|_| format!("expected a duration such as '100 ms', '5 s' or '1 min', got '{value}'"))?;
    let ms_per_unit: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        other => {
            return Err(format!("unknown time unit '{other}'; use ms, s, min, h or d"));
        }
    };
    Ok(Duration::from_millis(n * ms_per_unit))
}

/// The configuration reference as Markdown (written to docs/configuration.md).
pub fn reference_markdown() -> String {
    let mut s = String::from(
        "# Configuration reference\n\n\
         Generated from `brook_types::config::options` by `brook config docs`; do not edit by hand.\n\n\
         Brook reads a YAML file (`--config FILE`, nested or flat keys as in Flink's `config.yaml`) \
         and then `-D key=value` overrides. Keys follow Flink's names where Flink has the option.\n\n\
         | key | type | default | description |\n|---|---|---|---|\n",
    );
    for o in options::ALL {
        let default = match o.computed_default {
            Some((what, _)) => what.to_string(),
            None => format!("`{}`", o.default),
        };
        let mut desc = o.description.split_whitespace().collect::<Vec<_>>().join(" ");
        if !o.fallback_keys.is_empty() {
            desc.push_str(&format!(" Also read from: `{}`.", o.fallback_keys.join("`, `")));
        }
        s.push_str(&format!("| `{}` | {} | {} | {} |\n", o.key, o.ty.describe(), default, desc));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_flat_yaml_keys() {
        let mut c = Configuration::new();
        c.merge_yaml("taskmanager:\n  numberOfTaskSlots: 4\nparallelism.default: 3\n", "test").unwrap();
        assert_eq!(c.get_usize(&options::NUMBER_OF_TASK_SLOTS), 4);
        assert_eq!(c.get_usize(&options::PARALLELISM_DEFAULT), 3);
    }

    #[test]
    fn unknown_key_suggests_the_nearest() {
        let err = Configuration::new().set("parallelism.defualt", "2", "-D").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown configuration key 'parallelism.defualt' (from -D); did you mean 'parallelism.default'? \
             (see docs/configuration.md)"
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        let err = Configuration::new().set("parallelism.default", "two", "-D").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid value 'two' for configuration key 'parallelism.default' (from -D): expected an integer"
        );
    }

    #[test]
    fn durations_parse_like_flink() {
        assert_eq!(parse_duration("100 ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1 min").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn fallback_keys_map_to_the_current_key() {
        let mut c = Configuration::new();
        c.set_dynamic("execution.buffer-timeout=5 ms").unwrap();
        assert_eq!(c.get_duration(&options::BUFFER_TIMEOUT), Duration::from_millis(5));
    }
}
