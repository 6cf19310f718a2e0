//! CPU time and peak memory of this process, from `getrusage(RUSAGE_SELF)`, and
//! of the machine, from `/proc/stat`.
//!
//! CPU time is the sum of user and system time over all threads of the process.
//! The peak resident set size (`ru_maxrss`) is process-wide and never goes down:
//! it covers everything the process did so far, which is why `brook bench` runs
//! every measurement in a fresh child process.

use std::time::Duration;

/// A snapshot of the process's resource usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceUsage {
    /// User plus system CPU time of all threads so far.
    pub cpu: Duration,
    /// Largest resident set size so far, in bytes.
    pub peak_rss_bytes: u64,
}

impl ResourceUsage {
    /// The usage of this process now.
    pub fn of_this_process() -> std::io::Result<Self> {
        Self::of(libc::RUSAGE_SELF)
    }

    /// The summed usage of this process's terminated and waited-for children
    /// (the peak RSS is that of the largest child).
    pub fn of_waited_children() -> std::io::Result<Self> {
        Self::of(libc::RUSAGE_CHILDREN)
    }

    fn of(who: libc::c_int) -> std::io::Result<Self> {
        let ru = getrusage(who)?;
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
        Ok(Self {
            cpu: time(ru.ru_utime) + time(ru.ru_stime),
            // Linux reports ru_maxrss in KiB.
            peak_rss_bytes: ru.ru_maxrss as u64 * 1024,
        })
    }
}

/// Busy CPU time of the whole machine since boot: user, nice, system, irq and
/// softirq time of all cores from the first line of `/proc/stat`.
pub fn machine_busy_cpu() -> std::io::Result<Duration> {
    // /proc/stat counts in USER_HZ, which is 100 on every Linux architecture.
    const USER_HZ: u64 = 100;
    let stat = std::fs::read_to_string("/proc/stat")?;
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .map(|l| l.split_whitespace().filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    let [user, nice, system, _idle, _iowait, irq, softirq, ..] = fields[..] else {
        return Err(std::io::Error::other("/proc/stat has no `cpu` line with 7 fields"));
    };
    let ticks = user + nice + system + irq + softirq;
    Ok(Duration::from_millis(ticks * 1000 / USER_HZ))
}

#[allow(unsafe_code)]
fn getrusage(who: libc::c_int) -> std::io::Result<libc::rusage> {
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero bytes
    // are a valid value, and getrusage writes only into the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, exclusively borrowed `rusage` for the whole call.
    let rc = unsafe { libc::getrusage(who, &mut ru) };
    if rc == 0 { Ok(ru) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_grows_with_work() {
        let before = ResourceUsage::of_this_process().unwrap();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let after = ResourceUsage::of_this_process().unwrap();
        assert!(after.cpu >= before.cpu);
        assert!(after.peak_rss_bytes >= before.peak_rss_bytes && before.peak_rss_bytes > 0);
        assert!(machine_busy_cpu().unwrap() > Duration::ZERO);
    }
}
