//! CPU time and peak memory of this process, from `getrusage(RUSAGE_SELF)`.
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
        let ru = getrusage_self()?;
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
        Ok(Self {
            cpu: time(ru.ru_utime) + time(ru.ru_stime),
            // Linux reports ru_maxrss in KiB.
            peak_rss_bytes: ru.ru_maxrss as u64 * 1024,
        })
    }
}

#[allow(unsafe_code)]
fn getrusage_self() -> std::io::Result<libc::rusage> {
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero bytes
    // are a valid value, and getrusage writes only into the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, exclusively borrowed `rusage` for the whole call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
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
    }
}
