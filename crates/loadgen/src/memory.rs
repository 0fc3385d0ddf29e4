//! Peak memory of the stack's processes: the pid files of `deploy/dev.sh` (`<name>.pid`), read
//! again at every sample so a restarted service is followed; `/proc/<pid>/status` gives the
//! resident set now (`VmRSS`) and its peak since the process started (`VmHWM`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Peak resident set per process name, in KiB.
pub type Peaks = Arc<Mutex<BTreeMap<String, u64>>>;

/// Samples every `every` until the returned task is aborted.
pub fn sample(dir: PathBuf, every: Duration) -> (Peaks, tokio::task::JoinHandle<()>) {
    let peaks: Peaks = Arc::default();
    let task = {
        let peaks = Arc::clone(&peaks);
        tokio::spawn(async move {
            loop {
                record(&dir, &peaks);
                tokio::time::sleep(every).await;
            }
        })
    };
    (peaks, task)
}

/// Takes one sample now.
pub fn record(dir: &Path, peaks: &Peaks) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".pid"))
        else {
            continue;
        };
        let Some(kib) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).ok())
            .map(|status| peak_kib(&status))
        else {
            continue;
        };
        let mut peaks = peaks.lock().unwrap_or_else(PoisonError::into_inner);
        let peak = peaks.entry(name.to_owned()).or_default();
        *peak = (*peak).max(kib);
    }
}

/// The larger of `VmHWM` and `VmRSS` in a `/proc/<pid>/status` text, in KiB.
fn peak_kib(status: &str) -> u64 {
    status
        .lines()
        .filter(|line| line.starts_with("VmHWM:") || line.starts_with("VmRSS:"))
        .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_high_water_mark() {
        let status = "Name:\tx\nVmPeak:\t 9999 kB\nVmHWM:\t  51200 kB\nVmRSS:\t  40960 kB\n";
        assert_eq!(peak_kib(status), 51_200);
        assert_eq!(peak_kib("Name:\tkernel thread\n"), 0);
    }

    #[test]
    fn this_process_is_sampled_from_its_pid_file() {
        let dir = std::env::temp_dir().join(format!("loadgen-mem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("me.pid"), std::process::id().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("gone.pid"), "999999999").unwrap_or_else(|e| panic!("{e}"));
        let peaks = Peaks::default();
        record(&dir, &peaks);
        let _ = std::fs::remove_dir_all(&dir);
        let peaks = peaks.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(peaks.get("me").is_some_and(|&kib| kib > 0), "{peaks:?}");
        assert!(!peaks.contains_key("gone"));
    }
}
