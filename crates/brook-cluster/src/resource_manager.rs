//! The ResourceManager: which TaskManagers exist, which programs they carry, which
//! of their slots are free, and how to reach them. TaskManagers join with
//! [`ResourceManager::register_task_manager`] and leave with
//! [`ResourceManager::lose_task_manager`]; both are announced as [`ClusterEvent`]s,
//! which JobMasters follow to fail over (a lost TaskManager) and to resume a
//! restart that waits for slots (a new one).

use crate::gateway::TaskExecutorGateway;
use brook_types::{BrookError, JobId, Result, TaskManagerId};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// One slot of one TaskManager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId {
    pub task_manager: TaskManagerId,
    pub index: usize,
}

/// A change of the cluster's TaskManagers.
#[derive(Clone, Debug)]
pub enum ClusterEvent {
    Registered(TaskManagerId),
    /// The TaskManager left: its slots are gone and its tasks are lost.
    Lost {
        task_manager: TaskManagerId,
        cause: String,
    },
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

/// What a TaskManager offers.
pub struct TaskManagerRegistration {
    pub id: TaskManagerId,
    pub num_slots: usize,
    pub gateway: Arc<dyn TaskExecutorGateway>,
    /// The programs it carries; `None`: every program (an in-process TaskManager,
    /// which runs the StreamGraph it is given).
    pub programs: Option<Vec<String>>,
    /// How messages name it, e.g. `TaskManager 3f2a… at 127.0.0.1:6124`.
    pub description: String,
    /// `host:port` of its data plane; `None` in process (channels stay in memory).
    pub data_address: Option<String>,
    pub details: TaskManagerDetails,
}

struct TaskManagerEntry {
    /// Per slot, the job holding it.
    slots: Vec<Option<JobId>>,
    gateway: Arc<dyn TaskExecutorGateway>,
    programs: Option<Vec<String>>,
    description: String,
    data_address: Option<String>,
    details: TaskManagerDetails,
}

impl TaskManagerEntry {
    fn carries(&self, program: Option<&str>) -> bool {
        match (&self.programs, program) {
            (None, _) => true,
            // A job submitted as a StreamGraph runs only in process.
            (Some(_), None) => false,
            (Some(programs), Some(p)) => programs.iter().any(|q| q == p),
        }
    }
}

#[derive(Default)]
struct Slots {
    task_managers: BTreeMap<TaskManagerId, TaskManagerEntry>,
}

/// The slot table of the cluster.
pub struct ResourceManager {
    slots: Mutex<Slots>,
    events: broadcast::Sender<ClusterEvent>,
}

impl Default for ResourceManager {
    fn default() -> Self {
        Self { slots: Mutex::default(), events: broadcast::channel(1024).0 }
    }
}

impl ResourceManager {
    /// Adds a TaskManager and its free slots (replacing one registered under the
    /// same id, whose slots are lost).
    pub fn register_task_manager(&self, registration: TaskManagerRegistration) {
        let id = registration.id;
        let previous = self.slots.lock().task_managers.insert(
            id,
            TaskManagerEntry {
                slots: vec![None; registration.num_slots],
                gateway: registration.gateway,
                programs: registration.programs,
                description: registration.description,
                data_address: registration.data_address,
                details: registration.details,
            },
        );
        if previous.is_some() {
            let _ = self.events.send(ClusterEvent::Lost {
                task_manager: id,
                cause: "it registered again (it restarted or lost its connection)".into(),
            });
        }
        let _ = self.events.send(ClusterEvent::Registered(id));
    }

    /// Removes a TaskManager that is gone (`cause`: why it is considered lost) and
    /// announces it; false if it was not registered.
    pub fn lose_task_manager(&self, id: TaskManagerId, cause: &str) -> bool {
        let removed = self.slots.lock().task_managers.remove(&id);
        let Some(entry) = removed else { return false };
        let cause = format!("{} is lost: {cause}", entry.description);
        tracing::warn!(task_manager = %id, "{cause}");
        let _ = self.events.send(ClusterEvent::Lost { task_manager: id, cause });
        true
    }

    /// Records a heartbeat of `id` at `at_ms` (ms since the epoch).
    pub fn record_heartbeat(&self, id: TaskManagerId, at_ms: i64) {
        if let Some(e) = self.slots.lock().task_managers.get_mut(&id) {
            e.details.last_heartbeat_ms = Some(at_ms);
        }
    }

    /// Every registered TaskManager, by id.
    pub fn task_manager_snapshots(&self) -> Vec<TaskManagerSnapshot> {
        let slots = self.slots.lock();
        slots
            .task_managers
            .iter()
            .map(|(id, e)| TaskManagerSnapshot { id: *id, details: e.details.clone(), slots: e.slots.clone() })
            .collect()
    }

    /// Follows TaskManagers joining and leaving from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }

    /// How to reach a registered TaskManager.
    pub fn gateway(&self, id: TaskManagerId) -> Option<Arc<dyn TaskExecutorGateway>> {
        self.slots.lock().task_managers.get(&id).map(|e| e.gateway.clone())
    }

    /// Where a registered TaskManager serves its data plane.
    pub fn data_address(&self, id: TaskManagerId) -> Option<String> {
        self.slots.lock().task_managers.get(&id).and_then(|e| e.data_address.clone())
    }

    /// Every registered TaskManager's gateway.
    pub fn gateways(&self) -> Vec<Arc<dyn TaskExecutorGateway>> {
        self.slots.lock().task_managers.values().map(|e| e.gateway.clone()).collect()
    }

    /// Whether `id` is registered.
    pub fn is_registered(&self, id: TaskManagerId) -> bool {
        self.slots.lock().task_managers.contains_key(&id)
    }

    pub fn total_slots(&self) -> usize {
        self.slots.lock().task_managers.values().map(|e| e.slots.len()).sum()
    }

    pub fn free_slots(&self) -> usize {
        self.slots.lock().task_managers.values().flat_map(|e| &e.slots).filter(|s| s.is_none()).count()
    }

    pub fn num_task_managers(&self) -> usize {
        self.slots.lock().task_managers.len()
    }

    /// Allocates `count` slots for `job`, filling one TaskManager before the next,
    /// or fails naming both numbers. With `program`, only TaskManagers that carry
    /// it are offered (those that do not are named in the error).
    pub fn allocate(&self, job: JobId, count: usize, detail: &str, program: Option<&str>) -> Result<Vec<SlotId>> {
        let mut slots = self.slots.lock();
        let free = Self::offered(&slots, count, detail, program)?;
        let chosen: Vec<SlotId> = free.into_iter().take(count).collect();
        for s in &chosen {
            slots.task_managers.get_mut(&s.task_manager).expect("chosen from the table").slots[s.index] = Some(job);
        }
        Ok(chosen)
    }

    /// Whether `count` free slots are offered to a job of `program` now (the error of
    /// [`allocate`](Self::allocate) if not).
    pub fn check_available(&self, count: usize, detail: &str, program: Option<&str>) -> Result<()> {
        Self::offered(&self.slots.lock(), count, detail, program).map(|_| ())
    }

    /// The free slots offered to a job of `program`, if there are at least `count`.
    fn offered(slots: &Slots, count: usize, detail: &str, program: Option<&str>) -> Result<Vec<SlotId>> {
        let free: Vec<SlotId> = slots
            .task_managers
            .iter()
            .filter(|(_, e)| e.carries(program))
            .flat_map(|(tm, e)| {
                e.slots
                    .iter()
                    .enumerate()
                    .filter(|(_, j)| j.is_none())
                    .map(|(i, _)| SlotId { task_manager: *tm, index: i })
            })
            .collect();
        if free.len() < count {
            let excluded: Vec<&str> =
                slots.task_managers.values().filter(|e| !e.carries(program)).map(|e| e.description.as_str()).collect();
            let mut detail = detail.to_string();
            if !excluded.is_empty() {
                let what = program.map_or("jobs submitted as a StreamGraph".to_string(), |p| format!("program '{p}'"));
                detail = format!("{detail}; not offered: {} (they do not carry {what})", excluded.join(", "));
            }
            return Err(BrookError::NotEnoughSlots { required: count, available: free.len(), detail });
        }
        Ok(free)
    }

    /// Frees every slot `job` holds.
    pub fn release(&self, job: JobId) {
        for s in self.slots.lock().task_managers.values_mut().flat_map(|e| &mut e.slots) {
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

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
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

    fn register(rm: &ResourceManager, id: u128, slots: usize, programs: Option<&[&str]>) {
        rm.register_task_manager(TaskManagerRegistration {
            id: TaskManagerId(id),
            num_slots: slots,
            gateway: Arc::new(crate::gateway::LostTaskExecutor(TaskManagerId(id))),
            programs: programs.map(|p| p.iter().map(|s| s.to_string()).collect()),
            description: format!("TaskManager {id}"),
            data_address: None,
            details: TaskManagerDetails::default(),
        });
    }

    #[test]
    fn allocation_fails_fast_naming_both_numbers() {
        let rm = ResourceManager::default();
        register(&rm, 1, 2, None);
        let err = rm.allocate(JobId(1), 3, "slot sharing group 'default' needs 3", None).unwrap_err().to_string();
        assert_eq!(
            err,
            "not enough task slots: the job needs 3 slots (slot sharing group 'default' needs 3) but the cluster has 2; \
             lower the parallelism (-p) or raise taskmanager.numberOfTaskSlots"
        );
        let slots = rm.allocate(JobId(1), 2, "", None).unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(rm.free_slots(), 0);
        rm.release(JobId(1));
        assert_eq!(rm.free_slots(), 2);
    }

    #[test]
    fn a_job_is_offered_only_slots_of_task_managers_carrying_its_program() {
        let rm = ResourceManager::default();
        register(&rm, 1, 2, Some(&["wordcount"]));
        register(&rm, 2, 2, Some(&["other"]));
        let err = rm.allocate(JobId(1), 3, "slot sharing group 'default' needs 3", Some("wordcount")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not enough task slots: the job needs 3 slots (slot sharing group 'default' needs 3; not offered: \
             TaskManager 2 (they do not carry program 'wordcount')) but the cluster has 2; lower the parallelism (-p) \
             or raise taskmanager.numberOfTaskSlots"
        );
        let slots = rm.allocate(JobId(1), 2, "", Some("wordcount")).unwrap();
        assert_eq!(slots.iter().map(|s| s.task_manager).collect::<Vec<_>>(), vec![TaskManagerId(1); 2]);
    }

    #[test]
    fn a_lost_task_manager_takes_its_slots_and_is_announced() {
        let rm = ResourceManager::default();
        let mut events = rm.subscribe();
        register(&rm, 1, 2, None);
        register(&rm, 2, 2, None);
        rm.allocate(JobId(1), 3, "", None).unwrap();
        assert!(rm.lose_task_manager(TaskManagerId(2), "no heartbeat for 3000 ms"));
        assert!(!rm.lose_task_manager(TaskManagerId(2), "again"));
        assert_eq!((rm.total_slots(), rm.free_slots(), rm.num_task_managers()), (2, 0, 1));
        let mut seen = Vec::new();
        while let Ok(e) = events.try_recv() {
            seen.push(match e {
                ClusterEvent::Registered(id) => format!("registered {}", id.0),
                ClusterEvent::Lost { task_manager, cause } => format!("lost {}: {cause}", task_manager.0),
            });
        }
        assert_eq!(
            seen,
            vec![
                "registered 1".to_string(),
                "registered 2".to_string(),
                "lost 2: TaskManager 2 is lost: no heartbeat for 3000 ms".to_string()
            ]
        );
    }

    #[test]
    fn snapshots_show_slots_per_task_manager_and_heartbeats() {
        let rm = ResourceManager::default();
        register(&rm, 1, 2, None);
        let details = TaskManagerDetails {
            address: Some("10.0.0.2:6122".into()),
            data_port: Some(6121),
            registered_at_ms: 1000,
            last_heartbeat_ms: None,
            cpu_cores: 4,
            physical_memory: Some(1 << 30),
        };
        rm.register_task_manager(TaskManagerRegistration {
            id: TaskManagerId(2),
            num_slots: 1,
            gateway: Arc::new(crate::gateway::LostTaskExecutor(TaskManagerId(2))),
            programs: None,
            description: "TaskManager 2".into(),
            data_address: Some("10.0.0.2:6121".into()),
            details: details.clone(),
        });
        rm.allocate(JobId(7), 2, "", None).unwrap();
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
