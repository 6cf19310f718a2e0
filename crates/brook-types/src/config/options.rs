//! All options Brook knows, as [`ConfigOption`] constants; [`ALL`] lists them in
//! documentation order. Keys, types, defaults and descriptions follow Flink 2.3 where Flink
//! has the option; Brook-specific options say so.

use super::{ConfigOption, OptionType};

fn num_cores() -> String {
    std::thread::available_parallelism().map_or(1, |n| n.get()).to_string()
}

pub const PARALLELISM_DEFAULT: ConfigOption = ConfigOption {
    key: "parallelism.default",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "1",
    computed_default: None,
    description: "Parallelism of operators that do not set their own. `brook run` uses it (1 unless set); \
                  a program's own local environment uses the number of CPU cores when the key is not set, \
                  as Flink's local environment does.",
};
pub const MAX_PARALLELISM: ConfigOption = ConfigOption {
    key: "pipeline.max-parallelism",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "-1",
    computed_default: None,
    description: "Maximum parallelism (number of key groups) of keyed operators; -1 means 128, or \
                  more for operators of parallelism above 85 as in Flink.",
};
pub const RUNTIME_MODE: ConfigOption = ConfigOption {
    key: "execution.runtime-mode",
    fallback_keys: &[],
    ty: OptionType::Enum(&["STREAMING", "BATCH", "AUTOMATIC"]),
    default: "STREAMING",
    computed_default: None,
    description: "STREAMING emits results continuously; BATCH (bounded inputs only) emits keyed \
                  aggregations once per key at the end; AUTOMATIC picks BATCH when every source is bounded.",
};
pub const BUFFER_TIMEOUT_ENABLED: ConfigOption = ConfigOption {
    key: "execution.buffer-timeout.enabled",
    fallback_keys: &[],
    ty: OptionType::Boolean,
    default: "true",
    computed_default: None,
    description: "Whether partly filled output buffers are flushed after the buffer timeout; when false \
                  they are sent only when full (or at end of input).",
};
pub const BUFFER_TIMEOUT: ConfigOption = ConfigOption {
    key: "execution.buffer-timeout.interval",
    fallback_keys: &["execution.buffer-timeout"],
    ty: OptionType::Duration,
    default: "100 ms",
    computed_default: None,
    description: "Longest time a record waits in a partly filled output buffer. 0 flushes after every \
                  batch a task processes (a socket source's batch is what arrived at once; set \
                  execution.batch-size=1 for record-by-record flushing).",
};
pub const OPERATOR_CHAINING: ConfigOption = ConfigOption {
    key: "pipeline.operator-chaining.enabled",
    fallback_keys: &["pipeline.operator-chaining"],
    ty: OptionType::Boolean,
    default: "true",
    computed_default: None,
    description: "Whether operators connected by forward edges with equal parallelism are fused into one task.",
};
pub const AUTO_WATERMARK_INTERVAL: ConfigOption = ConfigOption {
    key: "pipeline.auto-watermark-interval",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "200 ms",
    computed_default: None,
    description: "How often assign_timestamps_and_watermarks asks its watermark generator for a watermark \
                  (on_periodic_emit) and checks for idleness. 0 disables periodic watermarks; \
                  punctuated generators still emit from on_event.",
};
pub const NUMBER_OF_TASK_SLOTS: ConfigOption = ConfigOption {
    key: "taskmanager.numberOfTaskSlots",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "",
    computed_default: Some(("number of CPU cores", num_cores)),
    description: "Task slots each TaskManager offers; a slot runs one parallel slice of a job.",
};
pub const LOCAL_NUMBER_TASK_MANAGER: ConfigOption = ConfigOption {
    key: "local.number-taskmanager",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "1",
    computed_default: None,
    description: "TaskManagers the local MiniCluster starts.",
};
pub const TASK_MANAGER_DATA_PORT: ConfigOption = ConfigOption {
    key: "taskmanager.data.port",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "0",
    computed_default: None,
    description: "Port of the TaskManager's data plane (the TCP connections that carry records between \
                  TaskManagers); 0 picks a free port.",
};
pub const TASK_MANAGER_BIND_HOST: ConfigOption = ConfigOption {
    key: "taskmanager.bind-host",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "127.0.0.1",
    computed_default: None,
    description: "Interface the TaskManager's data plane listens on. Brook binds loopback by default \
                  (Flink: 0.0.0.0); set 0.0.0.0 and taskmanager.host for a cluster across machines.",
};
pub const TASK_MANAGER_HOST: ConfigOption = ConfigOption {
    key: "taskmanager.host",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "Host name or address other TaskManagers reach this one's data plane at; empty: \
                  taskmanager.bind-host.",
};
pub const BUFFERS_PER_CHANNEL: ConfigOption = ConfigOption {
    key: "taskmanager.network.memory.buffers-per-channel",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "2",
    computed_default: None,
    description: "Exclusive buffers (credits) each input channel has.",
};
pub const FLOATING_BUFFERS_PER_GATE: ConfigOption = ConfigOption {
    key: "taskmanager.network.memory.floating-buffers-per-gate",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "8",
    computed_default: None,
    description: "Buffers an input gate shares among its channels on top of the exclusive ones.",
};
pub const BATCH_SIZE: ConfigOption = ConfigOption {
    key: "execution.batch-size",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "1024",
    computed_default: None,
    description: "Brook-specific: records per output buffer. A buffer is sent when it holds this many \
                  records or when the buffer timeout passes (Flink sizes buffers in bytes instead).",
};

// ------------------------------------------------------------------------------------
// Checkpointing (Flink's CheckpointingOptions)
// ------------------------------------------------------------------------------------

fn default_checkpoint_dir() -> String {
    let dir = std::env::temp_dir().join("brook-checkpoints");
    format!("file://{}", dir.display())
}

pub const CHECKPOINTING_INTERVAL: ConfigOption = ConfigOption {
    key: "execution.checkpointing.interval",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "",
    computed_default: None,
    description: "Gets the interval in which checkpoints are periodically scheduled. This setting defines the \
                  base interval. Checkpoint triggering may be delayed by the settings \
                  `execution.checkpointing.max-concurrent-checkpoints` and `execution.checkpointing.min-pause`. \
                  Not set: checkpointing is disabled.",
};
pub const CHECKPOINTING_MODE: ConfigOption = ConfigOption {
    key: "execution.checkpointing.mode",
    fallback_keys: &[],
    ty: OptionType::Enum(&["EXACTLY_ONCE", "AT_LEAST_ONCE"]),
    default: "EXACTLY_ONCE",
    computed_default: None,
    description: "The checkpointing mode (exactly-once vs. at-least-once).",
};
pub const CHECKPOINTING_TIMEOUT: ConfigOption = ConfigOption {
    key: "execution.checkpointing.timeout",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "10 min",
    computed_default: None,
    description: "The maximum time that a checkpoint may take before being discarded.",
};
pub const CHECKPOINTING_MIN_PAUSE: ConfigOption = ConfigOption {
    key: "execution.checkpointing.min-pause",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "0 ms",
    computed_default: None,
    description: "The minimal pause between checkpointing attempts. This setting defines how soon the checkpoint \
                  coordinator may trigger another checkpoint after it becomes possible to trigger another \
                  checkpoint with respect to the maximum number of concurrent checkpoints (see \
                  `execution.checkpointing.max-concurrent-checkpoints`). If the maximum number of concurrent \
                  checkpoints is set to one, this setting makes effectively sure that a minimum amount of time \
                  passes where no checkpoint is in progress at all.",
};
pub const MAX_CONCURRENT_CHECKPOINTS: ConfigOption = ConfigOption {
    key: "execution.checkpointing.max-concurrent-checkpoints",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "1",
    computed_default: None,
    description: "The maximum number of checkpoint attempts that may be in progress at the same time. If this \
                  value is n, then no checkpoints will be triggered while n checkpoint attempts are currently in \
                  flight. For the next checkpoint to be triggered, one checkpoint attempt would need to finish or \
                  expire.",
};
pub const TOLERABLE_FAILED_CHECKPOINTS: ConfigOption = ConfigOption {
    key: "execution.checkpointing.tolerable-failed-checkpoints",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "0",
    computed_default: None,
    description: "The tolerable checkpoint consecutive failure number. If set to 0, that means we do not tolerate \
                  any checkpoint failure. This only applies to the following failure reasons: I/O errors on the \
                  JobManager, failures in the async phase on the TaskManagers and checkpoint expiration due to a \
                  timeout. Failures originating from the sync phase on the TaskManagers always force a failover \
                  of the affected task. Other types of checkpoint failures (such as a checkpoint being subsumed) \
                  are ignored.",
};
pub const UNALIGNED_CHECKPOINTS: ConfigOption = ConfigOption {
    key: "execution.checkpointing.unaligned.enabled",
    fallback_keys: &["execution.checkpointing.unaligned"],
    ty: OptionType::Boolean,
    default: "false",
    computed_default: None,
    description: "Enables unaligned checkpoints, which greatly reduce checkpointing times under backpressure. \
                  Unaligned checkpoints contain data stored in buffers as part of the checkpoint state, which \
                  allows checkpoint barriers to overtake these buffers. Unaligned checkpoints can only be enabled \
                  if `execution.checkpointing.mode` is `EXACTLY_ONCE` and if \
                  `execution.checkpointing.max-concurrent-checkpoints` is 1.",
};
pub const ALIGNED_CHECKPOINT_TIMEOUT: ConfigOption = ConfigOption {
    key: "execution.checkpointing.aligned-checkpoint-timeout",
    fallback_keys: &["execution.checkpointing.alignment-timeout"],
    ty: OptionType::Duration,
    default: "0 ms",
    computed_default: None,
    description: "Only relevant if `execution.checkpointing.unaligned.enabled` is enabled. If timeout is 0, \
                  checkpoints will always start unaligned. If timeout has a positive value, checkpoints will start \
                  aligned. If during checkpointing, checkpoint start delay exceeds this timeout, alignment will \
                  timeout and checkpoint barrier will start working as unaligned checkpoint.",
};
pub const CHECKPOINTS_DIRECTORY: ConfigOption = ConfigOption {
    key: "execution.checkpointing.dir",
    fallback_keys: &["state.checkpoints.dir", "state.backend.fs.checkpointdir"],
    ty: OptionType::String,
    default: "",
    computed_default: Some(("`file://` + the system temp dir + `/brook-checkpoints`", default_checkpoint_dir)),
    description: "The directory for the data files and metadata of checkpoints: `file:///absolute/path` or \
                  `s3://bucket/prefix` (a plain path means a local directory). It must be reachable from every \
                  TaskManager and the JobManager. Brook writes `<dir>/<job-id>/chk-<n>/_metadata`. The default \
                  lets local runs checkpoint without setup; set a durable directory for anything you want to \
                  keep.",
};
pub const SAVEPOINT_DIRECTORY: ConfigOption = ConfigOption {
    key: "execution.checkpointing.savepoint-dir",
    fallback_keys: &["state.savepoints.dir", "savepoints.state.backend.fs.dir"],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "The default directory for savepoints (`file:///…` or `s3://…`), used when a savepoint is \
                  triggered without a target directory.",
};
pub const NUM_RETAINED_CHECKPOINTS: ConfigOption = ConfigOption {
    key: "execution.checkpointing.num-retained",
    fallback_keys: &["state.checkpoints.num-retained"],
    ty: OptionType::Integer,
    default: "1",
    computed_default: None,
    description: "The maximum number of completed checkpoints to retain.",
};
pub const EXTERNALIZED_CHECKPOINT_RETENTION: ConfigOption = ConfigOption {
    key: "execution.checkpointing.externalized-checkpoint-retention",
    fallback_keys: &[],
    ty: OptionType::Enum(&["DELETE_ON_CANCELLATION", "RETAIN_ON_CANCELLATION", "NO_EXTERNALIZED_CHECKPOINTS"]),
    default: "NO_EXTERNALIZED_CHECKPOINTS",
    computed_default: None,
    description: "Externalized checkpoints write their meta data out to persistent storage and are not \
                  automatically cleaned up when the owning job fails or is suspended. The mode defines how an \
                  externalized checkpoint should be cleaned up on job cancellation. `DELETE_ON_CANCELLATION`: \
                  checkpoint state is only kept when the owning job fails; it is deleted if the job is \
                  cancelled. `RETAIN_ON_CANCELLATION`: checkpoint state is kept when the owning job is cancelled \
                  or fails. `NO_EXTERNALIZED_CHECKPOINTS`: externalized checkpoints are disabled (checkpoints are \
                  deleted when the job terminates). The target directory is `execution.checkpointing.dir`.",
};
pub const INCREMENTAL_CHECKPOINTS: ConfigOption = ConfigOption {
    key: "execution.checkpointing.incremental",
    fallback_keys: &["state.backend.incremental"],
    ty: OptionType::Boolean,
    default: "false",
    computed_default: None,
    description: "Option whether to create incremental checkpoints, if possible. For an incremental checkpoint, \
                  only a diff from the previous checkpoint is stored, rather than the complete checkpoint state. \
                  Some state backends may not support incremental checkpoints and ignore this option.",
};
pub const DATA_INLINE_THRESHOLD: ConfigOption = ConfigOption {
    key: "execution.checkpointing.data-inline-threshold",
    fallback_keys: &["state.storage.fs.memory-threshold", "state.backend.fs.memory-threshold"],
    ty: OptionType::MemorySize,
    default: "20 kb",
    computed_default: None,
    description: "The minimum size of state data files. All state chunks smaller than that are stored inline in \
                  the root checkpoint metadata file. The max memory threshold for this configuration is 1MB.",
};

// ------------------------------------------------------------------------------------
// State backend and recovery (Flink's StateBackendOptions, StateRecoveryOptions)
// ------------------------------------------------------------------------------------

pub const STATE_BACKEND_TYPE: ConfigOption = ConfigOption {
    key: "state.backend.type",
    fallback_keys: &["state.backend"],
    ty: OptionType::Enum(&["hashmap", "rocksdb"]),
    default: "hashmap",
    computed_default: None,
    description: "The state backend to be used to store state. `hashmap` keeps state as objects in memory; \
                  `rocksdb` keeps it in an embedded RocksDB instance on local disk, for state larger than memory.",
};
pub const ROCKSDB_LOCAL_DIRECTORY: ConfigOption = ConfigOption {
    key: "state.backend.rocksdb.localdir",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "The local directory (on the TaskManager) where RocksDB puts its files (not set: the system \
                  temp directory): one directory per \
                  operator subtask, removed when the task ends. Brook takes one directory (Flink accepts a \
                  list).",
};
pub const STATE_RECOVERY_PATH: ConfigOption = ConfigOption {
    key: "execution.state-recovery.path",
    fallback_keys: &["execution.savepoint.path"],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "Path to a savepoint to restore the job from (for example `file:///flink/savepoint-1537`): a \
                  savepoint or retained checkpoint directory, or its `_metadata` file.",
};
pub const STATE_RECOVERY_IGNORE_UNCLAIMED_STATE: ConfigOption = ConfigOption {
    key: "execution.state-recovery.ignore-unclaimed-state",
    fallback_keys: &["execution.savepoint.ignore-unclaimed-state"],
    ty: OptionType::Boolean,
    default: "false",
    computed_default: None,
    description: "Allow to skip savepoint state that cannot be restored. Allow this if you removed an operator \
                  from your pipeline after the savepoint was triggered.",
};

// ------------------------------------------------------------------------------------
// Restart strategies (Flink's RestartStrategyOptions)
// ------------------------------------------------------------------------------------

fn infinite_attempts() -> String {
    i32::MAX.to_string()
}

pub const RESTART_STRATEGY: ConfigOption = ConfigOption {
    key: "restart-strategy.type",
    fallback_keys: &["restart-strategy"],
    ty: OptionType::Enum(&[
        "disable",
        "off",
        "none",
        "fixed-delay",
        "fixeddelay",
        "failure-rate",
        "failurerate",
        "exponential-delay",
        "exponentialdelay",
    ]),
    default: "",
    computed_default: None,
    description: "Defines the restart strategy to use in case of job failures. Accepted values are: `disable`, \
                  `off`, `none`: no restart strategy; `fixed-delay`, `fixeddelay`: fixed delay restart strategy; \
                  `failure-rate`, `failurerate`: failure rate restart strategy; `exponential-delay`, \
                  `exponentialdelay`: exponential delay restart strategy. If checkpointing is disabled, the \
                  default value is `disable`. If checkpointing is enabled, the default value is \
                  `exponential-delay`, and the default values of `exponential-delay` related config options will \
                  be used.",
};
pub const FIXED_DELAY_ATTEMPTS: ConfigOption = ConfigOption {
    key: "restart-strategy.fixed-delay.attempts",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "1",
    computed_default: None,
    description: "The number of times that Brook retries the execution before the job is declared as failed if \
                  `restart-strategy.type` has been set to `fixed-delay`.",
};
pub const FIXED_DELAY_DELAY: ConfigOption = ConfigOption {
    key: "restart-strategy.fixed-delay.delay",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 s",
    computed_default: None,
    description: "Delay between two consecutive restart attempts if `restart-strategy.type` has been set to \
                  `fixed-delay`. Delaying the retries can be helpful when the program interacts with external \
                  systems where for example connections or pending transactions should reach a timeout before \
                  re-execution is attempted. It can be specified using notation: \"1 min\", \"20 s\".",
};
pub const FAILURE_RATE_MAX_FAILURES_PER_INTERVAL: ConfigOption = ConfigOption {
    key: "restart-strategy.failure-rate.max-failures-per-interval",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "1",
    computed_default: None,
    description: "Maximum number of restarts in given time interval before failing a job if \
                  `restart-strategy.type` has been set to `failure-rate`.",
};
pub const FAILURE_RATE_INTERVAL: ConfigOption = ConfigOption {
    key: "restart-strategy.failure-rate.failure-rate-interval",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 min",
    computed_default: None,
    description: "Time interval for measuring failure rate if `restart-strategy.type` has been set to \
                  `failure-rate`. It can be specified using notation: \"1 min\", \"20 s\".",
};
pub const FAILURE_RATE_DELAY: ConfigOption = ConfigOption {
    key: "restart-strategy.failure-rate.delay",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 s",
    computed_default: None,
    description: "Delay between two consecutive restart attempts if `restart-strategy.type` has been set to \
                  `failure-rate`. It can be specified using notation: \"1 min\", \"20 s\".",
};
pub const EXPONENTIAL_DELAY_INITIAL_BACKOFF: ConfigOption = ConfigOption {
    key: "restart-strategy.exponential-delay.initial-backoff",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 s",
    computed_default: None,
    description: "Starting duration between restarts if `restart-strategy.type` has been set to \
                  `exponential-delay`. It can be specified using notation: \"1 min\", \"20 s\".",
};
pub const EXPONENTIAL_DELAY_MAX_BACKOFF: ConfigOption = ConfigOption {
    key: "restart-strategy.exponential-delay.max-backoff",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 min",
    computed_default: None,
    description: "The highest possible duration between restarts if `restart-strategy.type` has been set to \
                  `exponential-delay`. It can be specified using notation: \"1 min\", \"20 s\".",
};
pub const EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER: ConfigOption = ConfigOption {
    key: "restart-strategy.exponential-delay.backoff-multiplier",
    fallback_keys: &[],
    ty: OptionType::Double,
    default: "1.5",
    computed_default: None,
    description: "Backoff value is multiplied by this value after every failure, until max backoff is reached \
                  if `restart-strategy.type` has been set to `exponential-delay`.",
};
pub const EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD: ConfigOption = ConfigOption {
    key: "restart-strategy.exponential-delay.reset-backoff-threshold",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 h",
    computed_default: None,
    description: "Threshold when the backoff is reset to its initial value if `restart-strategy.type` has been \
                  set to `exponential-delay`. It specifies how long the job must be running without failure to \
                  reset the exponentially increasing backoff to its initial value. It can be specified using \
                  notation: \"1 min\", \"20 s\".",
};
pub const EXPONENTIAL_DELAY_JITTER_FACTOR: ConfigOption = ConfigOption {
    key: "restart-strategy.exponential-delay.jitter-factor",
    fallback_keys: &[],
    ty: OptionType::Double,
    default: "0.1",
    computed_default: None,
    description: "Jitter specified as a portion of the backoff if `restart-strategy.type` has been set to \
                  `exponential-delay`. It represents how large random value will be added or subtracted to the \
                  backoff. Useful when you want to avoid restarting multiple jobs at the same time.",
};
pub const EXPONENTIAL_DELAY_ATTEMPTS: ConfigOption = ConfigOption {
    key: "restart-strategy.exponential-delay.attempts-before-reset-backoff",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "",
    computed_default: Some(("infinite", infinite_attempts)),
    description: "The number of times that Brook retries the execution before failing the job if \
                  `restart-strategy.type` has been set to `exponential-delay`. The number will be reset once \
                  the backoff is reset to its initial value.",
};

// ------------------------------------------------------------------------------------
// REST API (the JobManager's web endpoint; Flink's `RestOptions`)
// ------------------------------------------------------------------------------------

pub const REST_ADDRESS: ConfigOption = ConfigOption {
    key: "rest.address",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "localhost",
    computed_default: None,
    description: "The address that should be used by clients to connect to the server: where `brook list`, \
                  `cancel`, `savepoint` and `stop` send their requests (`-m host:port` overrides it). Flink \
                  falls back to `jobmanager.rpc.address`, whose default is `localhost`.",
};
pub const REST_PORT: ConfigOption = ConfigOption {
    key: "rest.port",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "8081",
    computed_default: None,
    description: "The port that the client connects to, and the port the REST server binds (`brook run \
                  --local` serves the REST API while its job runs and prints its address; when the key is not \
                  set and 8081 is in use, it binds any free port). 0 binds any free port. A program's own \
                  `execute()` serves the REST API only when this key is set.",
};
pub const REST_BIND_ADDRESS: ConfigOption = ConfigOption {
    key: "rest.bind-address",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "127.0.0.1",
    computed_default: None,
    description: "The address that the REST server binds itself. Brook binds the loopback interface unless \
                  told otherwise (Flink's key has no default; its shipped config.yaml sets `localhost`): the \
                  API can cancel jobs and write savepoints and has no authentication, so expose it (e.g. \
                  `0.0.0.0`) only on a trusted network.",
};

// ------------------------------------------------------------------------------------
// Cluster RPC and heartbeats (Flink's `JobManagerOptions`, `HeartbeatManagerOptions`)
// ------------------------------------------------------------------------------------

pub const JOB_MANAGER_RPC_ADDRESS: ConfigOption = ConfigOption {
    key: "jobmanager.rpc.address",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "127.0.0.1",
    computed_default: None,
    description: "The address of the JobManager's RPC endpoint: `brook jobmanager` binds it and `brook \
                  taskmanager` connects to it. Brook binds the loopback interface unless told otherwise (the \
                  control plane has no authentication); set a routable address for a cluster on several hosts.",
};
pub const JOB_MANAGER_RPC_PORT: ConfigOption = ConfigOption {
    key: "jobmanager.rpc.port",
    fallback_keys: &[],
    ty: OptionType::Integer,
    default: "6123",
    computed_default: None,
    description: "The port of the JobManager's RPC endpoint (gRPC). 0 binds any free port (the JobManager \
                  prints it).",
};
pub const TASK_MANAGER_REGISTRATION_TIMEOUT: ConfigOption = ConfigOption {
    key: "taskmanager.registration.timeout",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "5 min",
    computed_default: None,
    description: "How long `brook taskmanager` tries to register at the JobManager (every 500 ms) before it \
                  exits with an error naming the address it tried. It registers again without limit once it \
                  was registered and loses the JobManager.",
};
pub const HEARTBEAT_INTERVAL: ConfigOption = ConfigOption {
    key: "heartbeat.interval",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "1 s",
    computed_default: None,
    description: "How often the JobManager and each TaskManager send each other a heartbeat. Flink's default is \
                  10 s; Brook's is shorter because a heartbeat is one small message on an open stream and \
                  failover time is bounded below by failure detection.",
};
pub const HEARTBEAT_TIMEOUT: ConfigOption = ConfigOption {
    key: "heartbeat.timeout",
    fallback_keys: &[],
    ty: OptionType::Duration,
    default: "5 s",
    computed_default: None,
    description: "After this long without a heartbeat, the JobManager considers a TaskManager lost (its tasks \
                  fail and its jobs restart elsewhere) and a TaskManager considers the JobManager lost (it \
                  cancels its tasks and registers again). A process that dies is detected at once by its \
                  closed connection; the timeout covers hung processes and network partitions. Flink's default \
                  is 50 s, sized for JVM garbage-collection pauses that Brook does not have; 5 s tolerates four \
                  lost heartbeats.",
};

// ------------------------------------------------------------------------------------
// S3 (the keys of Flink's S3 file systems)
// ------------------------------------------------------------------------------------

pub const S3_ENDPOINT: ConfigOption = ConfigOption {
    key: "s3.endpoint",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "The S3 endpoint for `s3://` checkpoint and savepoint directories, e.g. \
                  `http://127.0.0.1:9000` for a local S3-compatible store. Not set: AWS S3 \
                  (or `AWS_ENDPOINT`). `http://` endpoints are allowed for local test stores; use `https://` for \
                  anything that leaves the machine.",
};
pub const S3_ACCESS_KEY: ConfigOption = ConfigOption {
    key: "s3.access-key",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "The S3 access key id. Not set: the AWS default chain (`AWS_ACCESS_KEY_ID`, instance metadata, …).",
};
pub const S3_SECRET_KEY: ConfigOption = ConfigOption {
    key: "s3.secret-key",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "The S3 secret access key. Never printed: configuration displays show `******`.",
};
pub const S3_PATH_STYLE_ACCESS: ConfigOption = ConfigOption {
    key: "s3.path.style.access",
    fallback_keys: &[],
    ty: OptionType::Boolean,
    default: "false",
    computed_default: None,
    description: "Whether to address buckets by path (`http://endpoint/bucket/key`, needed by most \
                  S3-compatible stores) instead of by virtual host (`http://bucket.endpoint/key`).",
};
pub const S3_REGION: ConfigOption = ConfigOption {
    key: "s3.region",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "",
    computed_default: None,
    description: "Brook-specific: the S3 region requests are signed for. Not set: `AWS_REGION`, else \
                  `us-east-1` (what most S3-compatible stores expect).",
};

/// Every option, in documentation order.
pub const ENV_LOG_DIR: ConfigOption = ConfigOption {
    key: "env.log.dir",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "log",
    computed_default: None,
    description: "Where `brook cluster start` writes the logs of the JobManager and TaskManagers it starts \
                  (`brook-jobmanager.log`, `brook-taskmanager-<n>.log`); relative to the current directory.",
};

pub const ENV_PID_DIR: ConfigOption = ConfigOption {
    key: "env.pid.dir",
    fallback_keys: &[],
    ty: OptionType::String,
    default: "/tmp",
    computed_default: None,
    description: "Where `brook cluster start` records the PIDs of the processes it starts \
                  (`brook-<user>-cluster.pid`); `brook cluster stop` reads them from there.",
};

pub const ALL: &[&ConfigOption] = &[
    &PARALLELISM_DEFAULT,
    &MAX_PARALLELISM,
    &RUNTIME_MODE,
    &BUFFER_TIMEOUT_ENABLED,
    &BUFFER_TIMEOUT,
    &BATCH_SIZE,
    &OPERATOR_CHAINING,
    &AUTO_WATERMARK_INTERVAL,
    &NUMBER_OF_TASK_SLOTS,
    &LOCAL_NUMBER_TASK_MANAGER,
    &TASK_MANAGER_DATA_PORT,
    &TASK_MANAGER_BIND_HOST,
    &TASK_MANAGER_HOST,
    &BUFFERS_PER_CHANNEL,
    &FLOATING_BUFFERS_PER_GATE,
    &CHECKPOINTING_INTERVAL,
    &CHECKPOINTING_MODE,
    &CHECKPOINTING_TIMEOUT,
    &CHECKPOINTING_MIN_PAUSE,
    &MAX_CONCURRENT_CHECKPOINTS,
    &TOLERABLE_FAILED_CHECKPOINTS,
    &UNALIGNED_CHECKPOINTS,
    &ALIGNED_CHECKPOINT_TIMEOUT,
    &CHECKPOINTS_DIRECTORY,
    &SAVEPOINT_DIRECTORY,
    &NUM_RETAINED_CHECKPOINTS,
    &EXTERNALIZED_CHECKPOINT_RETENTION,
    &INCREMENTAL_CHECKPOINTS,
    &DATA_INLINE_THRESHOLD,
    &STATE_BACKEND_TYPE,
    &ROCKSDB_LOCAL_DIRECTORY,
    &STATE_RECOVERY_PATH,
    &STATE_RECOVERY_IGNORE_UNCLAIMED_STATE,
    &RESTART_STRATEGY,
    &FIXED_DELAY_ATTEMPTS,
    &FIXED_DELAY_DELAY,
    &FAILURE_RATE_MAX_FAILURES_PER_INTERVAL,
    &FAILURE_RATE_INTERVAL,
    &FAILURE_RATE_DELAY,
    &EXPONENTIAL_DELAY_INITIAL_BACKOFF,
    &EXPONENTIAL_DELAY_MAX_BACKOFF,
    &EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER,
    &EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD,
    &EXPONENTIAL_DELAY_JITTER_FACTOR,
    &EXPONENTIAL_DELAY_ATTEMPTS,
    &REST_ADDRESS,
    &REST_PORT,
    &REST_BIND_ADDRESS,
    &JOB_MANAGER_RPC_ADDRESS,
    &JOB_MANAGER_RPC_PORT,
    &TASK_MANAGER_REGISTRATION_TIMEOUT,
    &HEARTBEAT_INTERVAL,
    &HEARTBEAT_TIMEOUT,
    &S3_ENDPOINT,
    &S3_ACCESS_KEY,
    &S3_SECRET_KEY,
    &S3_PATH_STYLE_ACCESS,
    &S3_REGION,
    &ENV_LOG_DIR,
    &ENV_PID_DIR,
];
