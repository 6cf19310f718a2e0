//! The ResourceManager: which TaskManagers exist and which of their slots are free.

use brook_types::{BrookError, JobId, Result, TaskManagerId};
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// One slot of one TaskManager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId {
    pub task_manager: TaskManagerId,
    pub index: usize,
}

#[derive(Default)]
struct Slots {
    /// TaskManager → per slot, the job holding it.
    task_managers: BTreeMap<TaskManagerId, Vec<Option<JobId>>>,
}

/// What a TaskManager told about itself when it registered, and when it was last heard of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskManagerDetails {
    /// Where its RPC endpoint is (`host:port`); `None` for one in this process.
    pub address: Option<String>,
    /// The port its data plane serves; `None` for one in this process.
    pub data_port: Option<u16>,
    /// When it registered, ms since the epoch.
    pub registered_at_ms: i64,
    /// Its last heartbeat, ms since the epoch; `None` for one in this process (never lost).
    pub last_heartbeat_ms: Option<i64>,
    /// Cores of its host.
    pub cpu_cores: usize,
    /// Physical memory of its host in bytes, if known.
    pub physical_memory: Option<u64>,
}

/// One TaskManager as the ResourceManager sees it now (`GET /taskmanagers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskManagerSnapshot {
    pub id: TaskManagerId,
    pub details: TaskManagerDetails,
    /// Per slot, the job holding it.
    pub slots: Vec<Option<JobId>>,
}

impl TaskManagerSnapshot {
    pub fn free_slots(&self) -> usize {
        self.slots.iter().filter(|s| s.is_none()).count()
    }
}

/// The slot table of the cluster.
#[derive(Default)]
pub struct ResourceManager {
    slots: Mutex<Slots>,
    details: Mutex<BTreeMap<TaskManagerId, TaskManagerDetails>>,
}

impl ResourceManager {
    /// Registers a TaskManager of this process (its host's cores and memory, no address).
    pub fn register_task_manager(&self, id: TaskManagerId, num_slots: usize) {
        self.register_task_manager_with(id, num_slots, TaskManagerDetails::local());
    }

    /// Registers a TaskManager with what it told about itself.
    pub fn register_task_manager_with(&self, id: TaskManagerId, num_slots: usize, details: TaskManagerDetails) {
        self.slots.lock().task_managers.insert(id, vec![None; num_slots]);
        self.details.lock().insert(id, details);
    }

    /// Records a heartbeat of `id` at `at_ms` (ms since the epoch).
    pub fn record_heartbeat(&self, id: TaskManagerId, at_ms: i64) {
        if let Some(d) = self.details.lock().get_mut(&id) {
            d.last_heartbeat_ms = Some(at_ms);
        }
    }

    /// Every registered TaskManager, by id.
    pub fn task_manager_snapshots(&self) -> Vec<TaskManagerSnapshot> {
        let slots = self.slots.lock();
        let details = self.details.lock();
        slots
            .task_managers
            .iter()
            .map(|(id, s)| TaskManagerSnapshot {
                id: *id,
                details: details.get(id).cloned().unwrap_or_default(),
                slots: s.clone(),
            })
            .collect()
    }

    pub fn total_slots(&self) -> usize {
        self.slots.lock().task_managers.values().map(Vec::len).sum()
    }

    pub fn free_slots(&self) -> usize {
        self.slots.lock().task_managers.values().flatten().filter(|s| s.is_none()).count()
    }

    pub fn num_task_managers(&self) -> usize {
        self.slots.lock().task_managers.len()
    }

    /// Allocates `count` slots for `job`, filling one TaskManager before the next,
    /// or fails naming both numbers.
    pub fn allocate(&self, job: JobId, count: usize, detail: &str) -> Result<Vec<SlotId>> {
        let mut slots = self.slots.lock();
        let free: Vec<SlotId> = slots
            .task_managers
            .iter()
            .flat_map(|(tm, s)| {
                s.iter().enumerate().filter(|(_, j)| j.is_none()).map(|(i, _)| SlotId { task_manager: *tm, index: i })
            })
            .collect();
        if free.len() < count {
            return Err(BrookError::NotEnoughSlots {
                required: count,
                available: free.len(),
                detail: detail.to_string(),
            });
        }
        let chosen: Vec<SlotId> = free.into_iter().take(count).collect();
        for s in &chosen {
            slots.task_managers.get_mut(&s.task_manager).expect("chosen from the table")[s.index] = Some(job);
        }
        Ok(chosen)
    }

    /// Frees every slot `job` holds.
    pub fn release(&self, job: JobId) {
        for s in self.slots.lock().task_managers.values_mut().flatten() {
            if *s == Some(job) {
                *s = None;
            }
        }
    }
}

impl TaskManagerDetails {
    /// A TaskManager in this process: registered now, this host's hardware.
    pub fn local() -> Self {
        Self {
            address: None,
            data_port: None,
            registered_at_ms: now_ms(),
            last_heartbeat_ms: None,
            cpu_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            physical_memory: physical_memory(),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `MemTotal` of /proc/meminfo in bytes (Linux); `None` elsewhere.
fn physical_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_fails_fast_naming_both_numbers() {
        let rm = ResourceManager::default();
        rm.register_task_manager(TaskManagerId(1), 2);
        let err = rm.allocate(JobId(1), 3, "slot sharing group 'default' needs 3").unwrap_err().to_string();
        assert_eq!(
            err,
            "not enough task slots: the job needs 3 slots (slot sharing group 'default' needs 3) but the cluster has 2; \
             lower the parallelism (-p) or raise taskmanager.numberOfTaskSlots"
        );
        let slots = rm.allocate(JobId(1), 2, "").unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(rm.free_slots(), 0);
        rm.release(JobId(1));
        assert_eq!(rm.free_slots(), 2);
    }

    #[test]
    fn snapshots_show_slots_per_task_manager_and_heartbeats() {
        let rm = ResourceManager::default();
        rm.register_task_manager(TaskManagerId(1), 2);
        let details = TaskManagerDetails {
            address: Some("10.0.0.2:6122".into()),
            data_port: Some(6121),
            registered_at_ms: 1000,
            last_heartbeat_ms: None,
            cpu_cores: 4,
            physical_memory: Some(1 << 30),
        };
        rm.register_task_manager_with(TaskManagerId(2), 1, details.clone());
        rm.allocate(JobId(7), 2, "").unwrap();
        rm.record_heartbeat(TaskManagerId(2), 2000);
        let snaps = rm.task_manager_snapshots();
        assert_eq!(snaps.len(), 2);
        assert_eq!(snaps[0].id, TaskManagerId(1));
        assert_eq!(snaps[0].slots, vec![Some(JobId(7)), Some(JobId(7))]);
        assert_eq!(snaps[0].free_slots(), 0);
        assert_eq!(snaps[0].details.address, None);
        assert_eq!(snaps[1].slots, vec![None]);
        assert_eq!(snaps[1].details, TaskManagerDetails { last_heartbeat_ms: Some(2000), ..details });
    }
}
