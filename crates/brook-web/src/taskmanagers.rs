//! `GET /taskmanagers` and `/taskmanagers/:taskmanagerid`: the ResourceManager's
//! view of each TaskManager in Flink 2.3's shape (`TaskManagerInfo`,
//! `TaskManagerDetailsInfo`). Brook has no JVM memory model: the memory fields Flink
//! derives from it are 0; `hardware` is the host's (cores, physical memory).

use crate::shapes::now_ms;
use brook_cluster::dispatcher::JobEntry;
use brook_cluster::resource_manager::TaskManagerSnapshot;
use brook_types::{JobId, TaskManagerId};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Subtasks deployed and not ended, per (TaskManager, job).
pub fn assigned_tasks(jobs: &[Arc<JobEntry>]) -> BTreeMap<(TaskManagerId, JobId), usize> {
    let mut counts = BTreeMap::new();
    for job in jobs {
        let snap = job.handle.snapshot();
        for v in &snap.vertices {
            for (state, tm) in v.subtask_states.iter().zip(&v.subtask_locations) {
                if let Some(tm) = tm
                    && !state.is_terminal()
                {
                    *counts.entry((*tm, snap.job_id)).or_insert(0) += 1;
                }
            }
        }
    }
    counts
}

fn resource(cpu_cores: usize) -> Value {
    json!({
        "cpuCores": cpu_cores,
        "taskHeapMemory": 0,
        "taskOffHeapMemory": 0,
        "managedMemory": 0,
        "networkMemory": 0,
        "extendedResources": {},
    })
}

/// One entry of `GET /taskmanagers`.
pub fn task_manager(tm: &TaskManagerSnapshot, assigned: &BTreeMap<(TaskManagerId, JobId), usize>) -> Value {
    let d = &tm.details;
    let tasks: usize = assigned.iter().filter(|((id, _), _)| *id == tm.id).map(|(_, n)| n).sum();
    let slots = tm.slots.len();
    let free = tm.free_slots();
    // Cores per slot, as Flink divides a TaskManager's resources over its slots.
    let cores_of = |n: usize| (d.cpu_cores * n).checked_div(slots).unwrap_or(0);
    json!({
        "id": tm.id.to_string(),
        "path": d.address.as_ref().map_or_else(|| "local".to_string(), |a| format!("grpc://{a}")),
        "dataPort": d.data_port.map_or(-1, i64::from),
        "jmxPort": -1,
        // As Flink: the time of the last heartbeat (ms since the epoch); a
        // TaskManager in this process is always current.
        "timeSinceLastHeartbeat": d.last_heartbeat_ms.unwrap_or_else(now_ms),
        "slotsNumber": slots,
        "freeSlots": free,
        "assignedTasks": tasks,
        "totalResource": resource(d.cpu_cores),
        "freeResource": resource(cores_of(free)),
        "hardware": {
            "cpuCores": d.cpu_cores,
            "physicalMemory": d.physical_memory.map_or(-1, |m| m as i64),
            "freeMemory": 0,
            "managedMemory": 0,
        },
        "memoryConfiguration": {
            "frameworkHeap": 0,
            "taskHeap": 0,
            "frameworkOffHeap": 0,
            "taskOffHeap": 0,
            "networkMemory": 0,
            "managedMemory": 0,
            "jvmMetaspace": 0,
            "jvmOverhead": 0,
            "totalFlinkMemory": 0,
            "totalProcessMemory": 0,
        },
    })
}

/// `GET /taskmanagers/:id`: the entry plus its allocated slots and metrics.
pub fn task_manager_details(tm: &TaskManagerSnapshot, assigned: &BTreeMap<(TaskManagerId, JobId), usize>) -> Value {
    let mut info = task_manager(tm, assigned);
    let slots = tm.slots.len().max(1);
    let per_slot_cores = tm.details.cpu_cores / slots;
    // Flink lists one entry per allocated slot; the job's tasks on this TaskManager
    // are spread over its slots here as slot sharing places them.
    let mut allocated = Vec::new();
    let mut by_job: BTreeMap<JobId, usize> = BTreeMap::new();
    for job in tm.slots.iter().flatten() {
        *by_job.entry(*job).or_insert(0) += 1;
    }
    for (job, n) in by_job {
        let tasks = assigned.get(&(tm.id, job)).copied().unwrap_or(0);
        for i in 0..n {
            let share = tasks / n + usize::from(i < tasks % n);
            allocated.push(json!({
                "jobId": job.to_string(),
                "resource": resource(per_slot_cores),
                "assignedTasks": share,
            }));
        }
    }
    info["allocatedSlots"] = Value::Array(allocated);
    info["metrics"] = json!({
        "heapUsed": 0, "heapCommitted": 0, "heapMax": 0,
        "nonHeapUsed": 0, "nonHeapCommitted": 0, "nonHeapMax": 0,
        "directCount": 0, "directUsed": 0, "directMax": 0,
        "mappedCount": 0, "mappedUsed": 0, "mappedMax": 0,
        "nettyShuffleMemorySegmentsAvailable": 0, "nettyShuffleMemorySegmentsUsed": 0,
        "nettyShuffleMemorySegmentsTotal": 0, "nettyShuffleMemoryAvailable": 0,
        "nettyShuffleMemoryUsed": 0, "nettyShuffleMemoryTotal": 0,
        "garbageCollectors": [],
    });
    info
}
