//! The graphs a job passes through: StreamGraph (what the API built) → JobGraph
//! (operator chains) → deployment descriptors (one per subtask, made by the
//! JobMaster from the JobGraph alone).

pub mod connect;
mod deployment;
mod job_graph;
mod plan;
mod stream_graph;

pub use deployment::{
    ChannelTarget, DataPlaneLocation, InputChannel, InputGateDescriptor, ResultPartitionDescriptor,
    TaskDeploymentDescriptor,
};
pub use job_graph::{ChainedOperatorInfo, JobEdge, JobGraph, JobVertex};
pub use stream_graph::{ChainingStrategy, ExecutionConfig, StreamEdge, StreamGraph, StreamNode};
