//! Brook's data plane: moves the bytes of channels between TaskManagers.
//!
//! Each TaskManager has one [`NetworkEnvironment`]: it listens on
//! `taskmanager.data.port` and keeps **one TCP connection per peer TaskManager**, used
//! in both directions and multiplexing every channel between the two
//! ([`connection`] describes the handshake and the tie-break when both dial at once).
//! What goes over it is a sequence of length-prefixed [`Frame`]s.
//!
//! Flow control is Flink's credit-based scheme: a sender ([`OutputChannel`]) sends a
//! record buffer only with a credit; the receiver ([`RemoteInputGate`]) grants each
//! channel its exclusive credits when the channel opens and a credit back whenever its
//! task frees a buffer, and lends the gate's floating credits to channels whose sender
//! reports a backlog ([`ReceiverCredits`]). Events (watermarks, barriers, end of input)
//! need no credit.
//!
//! This crate knows bytes only. The runtime (`brook-runtime`) serializes typed stream
//! elements into payloads and decodes them into its typed input gates through an
//! [`InputSink`]. See docs/design/network.md.
//!
//! ```
//! # async fn demo() -> Result<(), brook_network::NetworkError> {
//! use brook_network::{NetworkConfig, NetworkEnvironment};
//! let env = NetworkEnvironment::start(NetworkConfig::default()).await?;
//! assert!(env.address().starts_with("127.0.0.1:"));
//! # Ok(()) }
//! ```

mod channel_id;
pub mod connection;
mod credit;
mod environment;
mod error;
mod frame;
mod input;
mod output;
mod peer;

pub use channel_id::ChannelId;
pub use credit::{Grants, NoCredit, ReceiverCredits};
pub use environment::{NetworkConfig, NetworkEnvironment};
pub use error::{ChannelError, NetworkError};
pub use frame::{Frame, FrameError, PROTOCOL_VERSION};
pub use input::{InputSink, RemoteInputGate, SinkError};
pub use output::OutputChannel;
