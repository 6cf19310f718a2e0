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

/// The slot table of the cluster.
#[derive(Default)]
pub struct ResourceManager {
    slots: Mutex<Slots>,
}

impl ResourceManager {
    pub fn register_task_manager(&self, id: TaskManagerId, num_slots: usize) {
        self.slots.lock().task_managers.insert(id, vec![None; num_slots]);
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
}
