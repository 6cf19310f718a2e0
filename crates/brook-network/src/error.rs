//! Errors of the data plane.

use crate::channel_id::ChannelId;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(
        "cannot listen for the data plane on {address}: {source}; choose another taskmanager.data.port or \
         taskmanager.bind-host"
    )]
    Bind { address: String, source: std::io::Error },
    #[error("{channel} is registered twice on this TaskManager; a task was deployed twice (a bug in deployment)")]
    DuplicateChannel { channel: ChannelId },
    #[error("the data plane of this TaskManager is shut down")]
    ShutDown,
}

/// Why a channel cannot carry data any more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The receiving task is gone (canceled, failed, or finished).
    #[error("the receiving task of this channel is gone")]
    ReceiverGone,
    /// The connection failed; the cause names the peer.
    #[error("{0}")]
    Failed(String),
}
