//! What a benchmark run reports, as a Markdown table and as JSON.

use serde::{Deserialize, Serialize};

/// The figures of one run of one scenario at one parallelism.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `a`, `b` or `c`.
    pub scenario: String,
    pub job: String,
    pub parallelism: usize,
    /// Records the job processed (numbers for a and c, words for b).
    pub records: u64,
    /// From building the job to its end, MiniCluster start included.
    pub wall_secs: f64,
    /// The job's own runtime, submission to end, as the JobExecutionResult reports it.
    pub job_secs: f64,
    /// User plus system CPU time of the whole process during the run.
    pub cpu_secs: f64,
    pub records_per_sec: f64,
    /// Records per CPU-second: throughput per core actually used.
    pub records_per_cpu_sec: f64,
    /// Peak resident set size of the process that ran the job (ru_maxrss).
    pub peak_rss_mib: f64,
    /// What the check after the run verified.
    pub check: String,
    /// Wall seconds of every repetition (`--repeat`); the other figures are those
    /// of the repetition with the median wall time.
    #[serde(default)]
    pub wall_secs_samples: Vec<f64>,
    /// CPU seconds the rest of the machine used while the child process ran
    /// (busy time in /proc/stat minus the child's own CPU time). Well above 0
    /// means other work competed for the cores and the figures are contaminated.
    #[serde(default)]
    pub other_cpu_secs: Option<f64>,
}

/// The machine the figures come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub os: String,
}

impl Machine {
    /// This machine, from `/proc` and `/etc/os-release` (fields it cannot read stay empty).
    pub fn this_one() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).map(|rest| rest.trim_start_matches([' ', '\t', ':', '=']).trim()))
                .map(|v| v.trim_matches('"').to_string())
        };
        let meminfo = read("/proc/meminfo");
        let memory_kib: f64 =
            field(&meminfo, "MemTotal").and_then(|v| v.trim_end_matches("kB").trim().parse().ok()).unwrap_or(0.0);
        Self {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field(&read("/proc/cpuinfo"), "model name").unwrap_or_default(),
            memory_gib: memory_kib / 1_048_576.0,
            os: field(&read("/etc/os-release"), "PRETTY_NAME").unwrap_or_default(),
        }
    }
}

/// Everything `brook bench --json` writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// UTC date of the measurement, `YYYY-MM-DD`.
    pub date: String,
    pub brook_version: String,
    pub machine: Machine,
    /// The command line that produced the figures.
    pub command: String,
    /// The 1-minute load average before the runs; well above 0 means noisy figures.
    pub load_average: f64,
    pub runs: Vec<RunReport>,
}

/// The runs as a Markdown table.
pub fn markdown_table(runs: &[RunReport]) -> String {
    let mut s = String::from(
        "| scenario | job | p | records | wall s | CPU s | records/s | records/CPU-s | peak RSS MiB | other CPU s |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in runs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {} | {} | {:.0} | {} |\n",
            r.scenario,
            r.job,
            r.parallelism,
            thousands(r.records),
            r.wall_secs,
            r.cpu_secs,
            thousands(r.records_per_sec.round() as u64),
            thousands(r.records_per_cpu_sec.round() as u64),
            r.peak_rss_mib,
            r.other_cpu_secs.map_or("–".to_string(), |s| format!("{s:.2}")),
        ));
    }
    s
}

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn utc_date_today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(50_000_000), "50,000,000");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_413), "2025-11-21");
    }
}
