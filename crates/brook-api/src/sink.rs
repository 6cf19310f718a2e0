//! `DataStreamSink`: settings of a sink operator.

use crate::environment::StreamExecutionEnvironment;
use brook_runtime::graph::{ChainingStrategy, StreamNode};
use brook_types::NodeId;

/// The sink at the end of a stream.
pub struct DataStreamSink {
    env: StreamExecutionEnvironment,
    node: NodeId,
}

impl DataStreamSink {
    pub(crate) fn new(env: StreamExecutionEnvironment, node: NodeId) -> Self {
        Self { env, node }
    }

    fn configure(self, f: impl FnOnce(&mut StreamNode)) -> Self {
        f(self.env.builder.lock().node_mut(self.node));
        self
    }

    pub fn name(self, name: &str) -> Self {
        self.configure(|n| n.name = name.to_string())
    }

    pub fn uid(self, uid: &str) -> Self {
        self.configure(|n| n.uid = Some(uid.to_string()))
    }

    pub fn set_parallelism(self, parallelism: usize) -> Self {
        self.configure(|n| n.parallelism = Some(parallelism))
    }

    pub fn disable_chaining(self) -> Self {
        self.configure(|n| n.chaining = ChainingStrategy::Never)
    }

    pub fn slot_sharing_group(self, group: &str) -> Self {
        self.configure(|n| n.slot_sharing_group = Some(group.to_string()))
    }
}
