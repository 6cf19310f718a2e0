//! Configuration: typed options with Flink's key names.
//!
//! Every option Brook reads is a [`ConfigOption`] constant in [`options`], with its
//! key, default and description; [`options::ALL`] lists them, `docs/configuration.md`
//! is generated from that list (`brook config docs`), and unknown keys are rejected
//! with a hint. Values come from a YAML file (nested or flat keys, as Flink's
//! `config.yaml`), then `-D key=value` overrides.
//!
//! Values of sensitive keys (those containing `password`, `secret`, `token`, … — see
//! [`is_sensitive`]) are never shown: [`Configuration`]'s `Debug` and `Display`, its
//! [`entries`](Configuration::entries) and its errors print `******` instead, as Flink does.

use crate::error::{BrookError, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// The type of an option's value, for validation and documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    Integer,
    Boolean,
    Duration,
    /// A floating-point number.
    Double,
    /// A number of bytes with an optional unit (`20 kb`, `1 mb`), as Flink's `MemorySize`.
    MemorySize,
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
            OptionType::Double => "Double".into(),
            OptionType::MemorySize => "MemorySize".into(),
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

pub mod options;

/// What is shown instead of the value of a sensitive key (Flink's `HIDDEN_CONTENT`).
pub const HIDDEN_CONTENT: &str = "******";

/// Substrings that make a key sensitive, as in Flink's `GlobalConfiguration.SENSITIVE_KEYS`.
const SENSITIVE_KEYS: &[&str] = &[
    "password",
    "secret",
    "fs.azure.account.key",
    "apikey",
    "auth-params",
    "service-key",
    "token",
    "basic-auth",
    "jaas.config",
    "http-headers",
];

/// Whether the value of `key` must never be shown (logs, errors, REST, `Debug`):
/// the key contains `password`, `secret`, `token`, … (case-insensitive), as in Flink.
pub fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SENSITIVE_KEYS.iter().any(|s| key.contains(s))
}

/// `value`, or [`HIDDEN_CONTENT`] if `key` is sensitive.
pub fn display_value<'a>(key: &str, value: &'a str) -> &'a str {
    if is_sensitive(key) { HIDDEN_CONTENT } else { value }
}

/// A set of configuration values with where each came from.
///
/// `Debug` and `Display` mask the values of sensitive keys ([`is_sensitive`]).
#[derive(Clone, Default)]
pub struct Configuration {
    values: BTreeMap<String, (String, String)>,
}

impl fmt::Debug for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

/// One `key: value` line per explicitly set key, sensitive values masked.
impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in self.entries() {
            writeln!(f, "{key}: {value}")?;
        }
        Ok(())
    }
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
                "-D {}: expected key=value, e.g. -D parallelism.default=2",
                display_value(pair, pair)
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
            value: display_value(key, value).to_string(),
            origin: origin.to_string(),
            reason,
        })?;
        self.values.insert(option.key.to_string(), (value.to_string(), origin.to_string()));
        Ok(())
    }

    /// Unsets `option` (it reads its default again); whether it was set.
    pub fn remove(&mut self, option: &ConfigOption) -> bool {
        self.values.remove(option.key).is_some()
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

    /// The value, or the default; `None` for an option without a default that is not set
    /// (such as `execution.checkpointing.interval`).
    pub fn get_optional(&self, option: &ConfigOption) -> Option<String> {
        Some(self.get_raw(option)).filter(|v| !v.trim().is_empty())
    }

    /// Where the value came from (a file name, `-D`), if it was set.
    pub fn origin(&self, option: &ConfigOption) -> Option<&str> {
        self.values.get(option.key).map(|(_, origin)| origin.as_str())
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

    /// A duration option without a default: `None` when not set.
    pub fn get_optional_duration(&self, option: &ConfigOption) -> Option<Duration> {
        self.get_optional(option).map(|v| parse_duration(&v).expect("duration options are validated when set"))
    }

    pub fn get_f64(&self, option: &ConfigOption) -> f64 {
        parse_f64(&self.get_raw(option)).expect("double options are validated when set")
    }

    /// A memory size in bytes.
    pub fn get_memory_size(&self, option: &ConfigOption) -> u64 {
        parse_memory_size(&self.get_raw(option)).expect("memory-size options are validated when set")
    }

    /// Enum options in upper case.
    pub fn get_enum(&self, option: &ConfigOption) -> String {
        self.get_raw(option).trim().to_ascii_uppercase()
    }

    /// Explicitly set pairs, for display (`/jobmanager/config`, logs): the values of
    /// sensitive keys are replaced by [`HIDDEN_CONTENT`]. Read values with the getters.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, (v, _))| (k.as_str(), display_value(k, v)))
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
        OptionType::Double => parse_f64(value).map(|_| ()),
        OptionType::MemorySize => parse_memory_size(value).map(|_| ()),
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

fn parse_f64(value: &str) -> Result<f64, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("expected a number such as 1.5, got '{value}'"))
}

/// Parses Flink's memory-size syntax: a number and an optional unit (`b`, `kb`, `mb`, `gb`,
/// `tb` and their short and long forms, powers of 1024); no unit means bytes.
pub fn parse_memory_size(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("expected a size such as '20 kb' or '1 mb', got '{value}'"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => 1 << 10,
        "m" | "mb" | "mebibytes" => 1 << 20,
        "g" | "gb" | "gibibytes" => 1 << 30,
        "t" | "tb" | "tebibytes" => 1 << 40,
        other => return Err(format!("unknown size unit '{other}'; use b, kb, mb, gb or tb")),
    };
    n.checked_mul(multiplier).ok_or_else(|| format!("size '{value}' is too large"))
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
            None if o.default.is_empty() => "(none)".to_string(),
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

    #[test]
    fn sensitive_values_are_masked_wherever_configuration_is_shown() {
        let mut c = Configuration::new();
        c.merge_yaml("s3:\n  secret-key: hunter2\n  access-key: AKIA\nparallelism.default: 2\n", "conf.yaml").unwrap();
        assert_eq!(c.get_raw(&options::S3_SECRET_KEY), "hunter2", "getters read the real value");

        let display = c.to_string();
        assert_eq!(display, "parallelism.default: 2\ns3.access-key: AKIA\ns3.secret-key: ******\n");
        let debug = format!("{c:?}");
        assert_eq!(debug, r#"{"parallelism.default": "2", "s3.access-key": "AKIA", "s3.secret-key": "******"}"#);
        let entries: Vec<_> = c.entries().collect();
        assert!(entries.contains(&("s3.secret-key", "******")), "{entries:?}");
        for shown in [&display, &debug] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn sensitive_keys_follow_flink() {
        for key in ["s3.secret-key", "my.PASSWORD", "auth.token", "fs.azure.account.key.x", "x.apikey"] {
            assert!(is_sensitive(key), "{key}");
        }
        for key in ["s3.access-key", "s3.endpoint", "parallelism.default"] {
            assert!(!is_sensitive(key), "{key}");
        }
    }

    #[test]
    fn errors_do_not_echo_sensitive_values() {
        let err = Configuration::new().set_dynamic("s3.secret-key: hunter2").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert_eq!(err, "-D ******: expected key=value, e.g. -D parallelism.default=2");
    }

    #[test]
    fn memory_sizes_parse_like_flink() {
        assert_eq!(parse_memory_size("20 kb").unwrap(), 20 * 1024);
        assert_eq!(parse_memory_size("20kb").unwrap(), 20 * 1024);
        assert_eq!(parse_memory_size("1 MB").unwrap(), 1 << 20);
        assert_eq!(parse_memory_size("512").unwrap(), 512);
        assert_eq!(parse_memory_size("2 g").unwrap(), 2 << 30);
        assert!(parse_memory_size("1 parsec").is_err());
        assert!(parse_memory_size("kb").is_err());
    }

    #[test]
    fn checkpointing_options_have_flinks_defaults() {
        let c = Configuration::new();
        assert_eq!(c.get_optional_duration(&options::CHECKPOINTING_INTERVAL), None, "unset = disabled");
        assert_eq!(c.get_duration(&options::CHECKPOINTING_TIMEOUT), Duration::from_secs(600));
        assert_eq!(c.get_duration(&options::CHECKPOINTING_MIN_PAUSE), Duration::ZERO);
        assert_eq!(c.get_usize(&options::MAX_CONCURRENT_CHECKPOINTS), 1);
        assert_eq!(c.get_usize(&options::TOLERABLE_FAILED_CHECKPOINTS), 0);
        assert_eq!(c.get_enum(&options::CHECKPOINTING_MODE), "EXACTLY_ONCE");
        assert!(!c.get_bool(&options::UNALIGNED_CHECKPOINTS));
        assert_eq!(c.get_usize(&options::NUM_RETAINED_CHECKPOINTS), 1);
        assert_eq!(c.get_enum(&options::EXTERNALIZED_CHECKPOINT_RETENTION), "NO_EXTERNALIZED_CHECKPOINTS");
        assert!(!c.get_bool(&options::INCREMENTAL_CHECKPOINTS));
        assert_eq!(c.get_memory_size(&options::DATA_INLINE_THRESHOLD), 20 * 1024);
        assert_eq!(c.get_enum(&options::STATE_BACKEND_TYPE), "HASHMAP");
        assert_eq!(c.get_optional(&options::SAVEPOINT_DIRECTORY), None);
        assert!(c.get_raw(&options::CHECKPOINTS_DIRECTORY).starts_with("file://"));
        assert_eq!(c.get_optional(&options::RESTART_STRATEGY), None);
        assert_eq!(c.get_i64(&options::EXPONENTIAL_DELAY_ATTEMPTS), i64::from(i32::MAX));
        assert_eq!(c.get_f64(&options::EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER), 1.5);
        assert_eq!(c.get_duration(&options::EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD), Duration::from_secs(3600));
    }

    #[test]
    fn flinks_older_keys_still_work() {
        let mut c = Configuration::new();
        c.set_dynamic("state.checkpoints.dir=file:///tmp/ck").unwrap();
        c.set_dynamic("execution.savepoint.path=/tmp/sp").unwrap();
        c.set_dynamic("restart-strategy=fixeddelay").unwrap();
        c.set_dynamic("execution.checkpointing.unaligned=true").unwrap();
        c.set_dynamic("state.backend=rocksdb").unwrap();
        assert_eq!(c.get_raw(&options::CHECKPOINTS_DIRECTORY), "file:///tmp/ck");
        assert_eq!(c.get_optional(&options::STATE_RECOVERY_PATH).as_deref(), Some("/tmp/sp"));
        assert_eq!(c.get_enum(&options::RESTART_STRATEGY), "FIXEDDELAY");
        assert!(c.get_bool(&options::UNALIGNED_CHECKPOINTS));
        assert_eq!(c.get_enum(&options::STATE_BACKEND_TYPE), "ROCKSDB");
        let err = c.set_dynamic("restart-strategy.type=sometimes").unwrap_err().to_string();
        assert!(err.contains("expected one of disable, off, none, fixed-delay"), "{err}");
    }

    #[test]
    fn reference_shows_unset_defaults_as_none() {
        let md = reference_markdown();
        assert!(md.contains("| `execution.checkpointing.interval` | Duration | (none) |"), "{md}");
        assert!(
            md.contains("| `restart-strategy.exponential-delay.attempts-before-reset-backoff` | Integer | infinite |")
        );
        assert!(md.contains("| `execution.checkpointing.data-inline-threshold` | MemorySize | `20 kb` |"));
    }
}
