//! One remote TaskManager: the outgoing frame queue shared by every channel to it, and
//! the one TCP connection that carries it once attached.

use crate::frame::Frame;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) struct Peer {
    /// The peer's advertised data address (`host:port`), its name in the peers map.
    pub address: String,
    tx: mpsc::UnboundedSender<Frame>,
    pub state: Mutex<PeerState>,
    /// Bytes queued for writing on every connection of the environment.
    queued_bytes: Arc<AtomicUsize>,
}

pub(crate) struct PeerState {
    /// Taken by the writer task when a connection is attached.
    pub rx: Option<mpsc::UnboundedReceiver<Frame>>,
    /// A connection carries this peer's frames (or is being set up to).
    pub attached: bool,
    /// This side dials the peer and has no answer yet.
    pub dialing: bool,
    pub failed: Option<String>,
    pub tasks: Vec<JoinHandle<()>>,
}

impl Peer {
    pub fn new(address: String, queued_bytes: Arc<AtomicUsize>) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            address,
            tx,
            state: Mutex::new(PeerState {
                rx: Some(rx),
                attached: false,
                dialing: false,
                failed: None,
                tasks: Vec::new(),
            }),
            queued_bytes,
        })
    }

    /// Queues a frame; frames leave in the order they were queued. Before a connection
    /// is attached they wait. Fails with the cause once the connection failed.
    pub fn send(&self, frame: Frame) -> Result<(), String> {
        if let Some(cause) = &self.state.lock().failed {
            return Err(cause.clone());
        }
        let len = frame.encoded_len();
        self.queued_bytes.fetch_add(len, Ordering::Relaxed);
        if self.tx.send(frame).is_err() {
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(format!("the connection to the TaskManager at {} is closed", self.address));
        }
        Ok(())
    }

    pub fn written(&self, bytes: usize) {
        self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Marks the peer failed and stops its tasks; `false` if it had failed already.
    pub fn mark_failed(&self, cause: &str) -> bool {
        let tasks = {
            let mut state = self.state.lock();
            if state.failed.is_some() {
                return false;
            }
            state.failed = Some(cause.to_string());
            std::mem::take(&mut state.tasks)
        };
        // Frames still queued are dropped: nothing will write them.
        for t in tasks {
            t.abort();
        }
        true
    }
}
