//! `brook list`: the cluster's jobs, as `bin/flink list` prints them.

use super::cluster_client::ClusterOptions;
use clap::Args;
use serde_json::Value;

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Show only running jobs.
    #[arg(short = 'r', long)]
    running: bool,
    /// Show only scheduled jobs.
    #[arg(short = 's', long)]
    scheduled: bool,
    /// Show all jobs, terminated ones too.
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    cluster: ClusterOptions,
}

const RULE: &str = "--------------------------------------------------------------";

pub fn list(args: ListArgs) -> anyhow::Result<()> {
    let cluster = args.cluster.client()?;
    let (show_running, show_scheduled) =
        if args.all || (!args.running && !args.scheduled) { (true, true) } else { (args.running, args.scheduled) };
    println!("Waiting for response...");
    let overview = cluster.get("/jobs/overview")?;
    let mut jobs: Vec<&Value> = overview["jobs"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    jobs.sort_by_key(|j| j["start-time"].as_i64().unwrap_or(0));
    let state = |j: &Value| j["state"].as_str().unwrap_or("").to_string();
    let scheduled: Vec<&Value> =
        jobs.iter().copied().filter(|j| matches!(state(j).as_str(), "CREATED" | "INITIALIZING")).collect();
    let terminated: Vec<&Value> =
        jobs.iter().copied().filter(|j| matches!(state(j).as_str(), "FINISHED" | "CANCELED" | "FAILED")).collect();
    let running: Vec<&Value> = jobs
        .iter()
        .copied()
        .filter(|j| !matches!(state(j).as_str(), "CREATED" | "INITIALIZING" | "FINISHED" | "CANCELED" | "FAILED"))
        .collect();
    if show_running {
        print_section(&running, "------------------ Running/Restarting Jobs -------------------", "No running jobs.");
    }
    if show_scheduled {
        print_section(
            &scheduled,
            "----------------------- Scheduled Jobs -----------------------",
            "No scheduled jobs.",
        );
    }
    if args.all && !terminated.is_empty() {
        print_section(&terminated, "---------------------- Terminated Jobs -----------------------", "");
    }
    Ok(())
}

fn print_section(jobs: &[&Value], title: &str, none: &str) {
    if jobs.is_empty() {
        println!("{none}");
        return;
    }
    println!("{title}");
    for j in jobs {
        println!(
            "{} : {} : {} ({})",
            format_utc(j["start-time"].as_i64().unwrap_or(0)),
            j["jid"].as_str().unwrap_or(""),
            j["name"].as_str().unwrap_or(""),
            j["state"].as_str().unwrap_or("")
        );
    }
    println!("{RULE}");
}

/// `dd.MM.yyyy HH:mm:ss` in UTC (Flink prints the local time zone).
pub fn format_utc(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{day:02}.{month:02}.{year:04} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn formats_epoch_millis_as_flink_does_in_utc() {
        assert_eq!(format_utc(0), "01.01.1970 00:00:00");
        assert_eq!(format_utc(1_795_272_450_016), "21.11.2026 14:47:30");
        assert_eq!(format_utc(951_782_400_000), "29.02.2000 00:00:00");
    }
}
