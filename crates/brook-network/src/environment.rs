//! The data plane of one TaskManager: its listener, its connections (one per peer
//! TaskManager), and the channels registered on them.

use crate::channel_id::ChannelId;
use crate::connection;
use crate::credit::ReceiverCredits;
use crate::error::{ChannelError, NetworkError};
use crate::frame::Frame;
use crate::input::{GateInner, GateState, InputSink, RemoteInputGate, SinkError};
use crate::output::{OutputChannel, OutputShared, OutputState};
use crate::peer::Peer;
use brook_types::JobId;
use brook_types::config::{Configuration, options};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How a TaskManager's data plane listens and talks.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Interface to listen on (`taskmanager.bind-host`).
    pub bind_host: String,
    /// Port to listen on; 0 picks a free one (`taskmanager.data.port`).
    pub port: u16,
    /// Host other TaskManagers reach this one at (`taskmanager.host`); empty: the bind host.
    pub advertised_host: String,
    /// Frames larger than this are malformed (a bound on what a peer can make us allocate).
    pub max_frame_bytes: usize,
    /// How long connecting to a peer may take, retries included.
    pub connect_timeout: Duration,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            bind_host: "127.0.0.1".into(),
            port: 0,
            advertised_host: String::new(),
            max_frame_bytes: 256 << 20,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl NetworkConfig {
    pub fn from_configuration(config: &Configuration) -> Self {
        Self {
            bind_host: config.get_raw(&options::TASK_MANAGER_BIND_HOST),
            port: config.get_usize(&options::TASK_MANAGER_DATA_PORT).min(u16::MAX as usize) as u16,
            advertised_host: config.get_raw(&options::TASK_MANAGER_HOST),
            ..Self::default()
        }
    }
}

#[derive(Default)]
pub(crate) struct Inputs {
    pub routes: HashMap<ChannelId, (Arc<GateInner>, usize)>,
    /// Channels a sender opened before their gate was registered.
    pub pending_opens: HashMap<ChannelId, Arc<Peer>>,
    /// Events (watermarks, end of input, …) that arrived on such a channel before its
    /// gate was registered, in arrival order. They need no credit, so a fast sender —
    /// e.g. a source subtask with nothing for this channel — can send its end of input
    /// before the receiving task is deployed; they are delivered at registration,
    /// before any later frame of the channel.
    pub pending_events: HashMap<ChannelId, Vec<Bytes>>,
    /// Channels with such events whose sender closed them before the gate was
    /// registered (it finished): their events are still delivered.
    pub pending_closed: HashMap<ChannelId, Arc<Peer>>,
}

pub(crate) struct Inner {
    pub address: String,
    pub config: NetworkConfig,
    pub peers: Mutex<HashMap<String, Arc<Peer>>>,
    pub outputs: Mutex<HashMap<ChannelId, Arc<OutputShared>>>,
    pub inputs: Mutex<Inputs>,
    pub queued_bytes: Arc<AtomicUsize>,
    pub accept_task: Mutex<Option<JoinHandle<()>>>,
    pub shut_down: std::sync::atomic::AtomicBool,
}

/// The data plane of one TaskManager. Dropping it closes every connection.
pub struct NetworkEnvironment {
    inner: Arc<Inner>,
}

impl NetworkEnvironment {
    /// Listens on `config`'s host and port; must be called inside a tokio runtime,
    /// whose tasks then serve the connections.
    pub async fn start(config: NetworkConfig) -> Result<Self, NetworkError> {
        let bind = format!("{}:{}", config.bind_host, config.port);
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|source| NetworkError::Bind { address: bind.clone(), source })?;
        let port = listener.local_addr().map_err(|source| NetworkError::Bind { address: bind.clone(), source })?.port();
        let host = if config.advertised_host.is_empty() { &config.bind_host } else { &config.advertised_host };
        let address = format!("{host}:{port}");
        let inner = Arc::new(Inner {
            address,
            config,
            peers: Mutex::default(),
            outputs: Mutex::default(),
            inputs: Mutex::default(),
            queued_bytes: Arc::default(),
            accept_task: Mutex::default(),
            shut_down: Default::default(),
        });
        let task = tokio::spawn(connection::accept_loop(inner.clone(), listener));
        *inner.accept_task.lock() = Some(task);
        tracing::info!(address = %inner.address, "data plane listening");
        Ok(Self { inner })
    }

    /// The address other TaskManagers reach this one's data plane at (`host:port`).
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    /// Opens the sending end of channel `id` to the TaskManager at `address`, connecting
    /// to it unless a connection exists. Buffers wait for the receiver's credits.
    pub fn open_output(&self, address: &str, id: ChannelId) -> Result<OutputChannel, NetworkError> {
        if self.inner.shut_down.load(Ordering::Relaxed) {
            return Err(NetworkError::ShutDown);
        }
        let peer = connection::peer(&self.inner, address);
        let shared = Arc::new(OutputShared { id, peer: peer.clone(), state: Mutex::new(OutputState::default()) });
        {
            let mut outputs = self.inner.outputs.lock();
            if outputs.contains_key(&id) {
                return Err(NetworkError::DuplicateChannel { channel: id });
            }
            outputs.insert(id, shared.clone());
        }
        let channel = OutputChannel { shared, env: self.inner.clone() };
        if let Err(cause) = peer.send(Frame::Open { channel: id }) {
            channel.shared.close(ChannelError::Failed(cause));
        }
        Ok(channel)
    }

    /// Registers the channels of one input gate: channel `i` of the gate is `ids[i]`.
    /// Each channel gets `exclusive` credits when its sender opens it; the gate lends
    /// `floating` more to channels with a backlog.
    pub fn register_input_gate(
        &self,
        ids: Vec<ChannelId>,
        exclusive: u32,
        floating: u32,
        sink: Arc<dyn InputSink>,
    ) -> Result<RemoteInputGate, NetworkError> {
        let n = ids.len();
        let inner = Arc::new(GateInner {
            ids: ids.clone(),
            sink,
            state: Mutex::new(GateState {
                credits: ReceiverCredits::new(n, exclusive, floating),
                peers: vec![None; n],
                closed: false,
                failed: false,
            }),
        });
        let opened = {
            let mut inputs = self.inner.inputs.lock();
            if let Some(dup) = ids.iter().find(|id| inputs.routes.contains_key(id)) {
                return Err(NetworkError::DuplicateChannel { channel: *dup });
            }
            for (i, id) in ids.iter().enumerate() {
                inputs.routes.insert(*id, (inner.clone(), i));
            }
            let opened = ids
                .iter()
                .enumerate()
                .filter_map(|(i, id)| inputs.pending_opens.remove(id).map(|p| (i, p)))
                .collect::<Vec<_>>();
            // Still under the lock: a frame of these channels dispatched from now on
            // finds the route only after the early events are in the gate.
            for (i, id) in ids.iter().enumerate() {
                let Some(events) = inputs.pending_events.remove(id) else { continue };
                let closed = inputs.pending_closed.remove(id);
                let peer = opened.iter().find(|(at, _)| *at == i).map(|(_, p)| p).or(closed.as_ref());
                if let Some(peer) = peer {
                    for payload in events {
                        deliver(&inner, peer, i, inner.sink.on_event(i, payload));
                    }
                }
            }
            opened
        };
        for (i, peer) in opened {
            inner.open(i, peer);
        }
        Ok(RemoteInputGate { inner, env: self.inner.clone() })
    }

    /// Forgets channels of `job` that were opened by senders and never registered here
    /// (a canceled attempt).
    pub fn unregister_job(&self, job: JobId) {
        let mut inputs = self.inner.inputs.lock();
        inputs.pending_opens.retain(|id, _| id.job != job);
        inputs.pending_events.retain(|id, _| id.job != job);
        inputs.pending_closed.retain(|id, _| id.job != job);
    }

    /// Bytes of frames queued for writing and not written to a socket yet.
    pub fn queued_bytes(&self) -> usize {
        self.inner.queued_bytes.load(Ordering::Relaxed)
    }

    /// Open connections (for tests: one per peer TaskManager).
    pub fn num_connections(&self) -> usize {
        self.inner.peers.lock().values().filter(|p| p.state.lock().attached).count()
    }
}

impl NetworkEnvironment {
    /// Stops listening and closes every connection: channels to and from other
    /// TaskManagers fail (as when the process stops). Dropping the environment does this.
    pub fn shutdown(&self) {
        self.inner.shut_down.store(true, Ordering::Relaxed);
        if let Some(task) = self.inner.accept_task.lock().take() {
            task.abort();
        }
        let peers: Vec<Arc<Peer>> = self.inner.peers.lock().values().cloned().collect();
        for peer in peers {
            fail_peer(&self.inner, &peer, "the data plane of this TaskManager shut down".into());
        }
    }
}

impl Drop for NetworkEnvironment {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Fails every channel that uses `peer`, once.
pub(crate) fn fail_peer(inner: &Inner, peer: &Arc<Peer>, cause: String) {
    if !peer.mark_failed(&cause) {
        return;
    }
    tracing::warn!(peer = %peer.address, %cause, "data-plane connection failed");
    {
        let mut peers = inner.peers.lock();
        if peers.get(&peer.address).is_some_and(|p| Arc::ptr_eq(p, peer)) {
            peers.remove(&peer.address);
        }
    }
    let outputs: Vec<Arc<OutputShared>> =
        inner.outputs.lock().values().filter(|o| Arc::ptr_eq(&o.peer, peer)).cloned().collect();
    for o in outputs {
        o.close(ChannelError::Failed(cause.clone()));
    }
    let gates: Vec<Arc<GateInner>> = {
        let mut inputs = inner.inputs.lock();
        inputs.pending_opens.retain(|_, p| !Arc::ptr_eq(p, peer));
        let Inputs { pending_opens, pending_events, pending_closed, .. } = &mut *inputs;
        pending_events.retain(|id, _| pending_opens.contains_key(id) || pending_closed.contains_key(id));
        let mut gates: Vec<Arc<GateInner>> = Vec::new();
        for (gate, _) in inputs.routes.values() {
            if !gates.iter().any(|g| Arc::ptr_eq(g, gate)) {
                gates.push(gate.clone());
            }
        }
        gates
    };
    for gate in gates {
        let uses = gate.state.lock().peers.iter().any(|p| p.as_ref().is_some_and(|p| Arc::ptr_eq(p, peer)));
        if uses {
            gate.fail(&cause);
        }
    }
}

/// Handles one frame that arrived from `peer` after the handshake; an error is a
/// protocol violation that fails the connection.
pub(crate) fn dispatch(inner: &Inner, peer: &Arc<Peer>, frame: Frame) -> Result<(), String> {
    match frame {
        Frame::Open { channel } => {
            let route = inner.inputs.lock().routes.get(&channel).cloned();
            match route {
                Some((gate, i)) => gate.open(i, peer.clone()),
                None => {
                    inner.inputs.lock().pending_opens.insert(channel, peer.clone());
                }
            }
        }
        Frame::Buffer { channel, backlog, payload } => {
            let Some((gate, i)) = route(inner, peer, channel) else { return Ok(()) };
            {
                let mut state = gate.state.lock();
                if state.closed {
                    return Ok(());
                }
                let grants = state.credits.on_buffer(i, backlog).map_err(|e| format!("{channel}: {e}"))?;
                gate.announce(&state, grants);
            }
            deliver(&gate, peer, i, gate.sink.on_buffer(i, payload));
        }
        Frame::Event { channel, payload } => {
            let route = {
                let mut inputs = inner.inputs.lock();
                match inputs.routes.get(&channel).cloned() {
                    Some(route) => Some(route),
                    None if inputs.pending_opens.contains_key(&channel) => {
                        // The receiving task is not deployed yet: keep the event for it.
                        inputs.pending_events.entry(channel).or_default().push(payload);
                        return Ok(());
                    }
                    None => None,
                }
            };
            let Some((gate, i)) = route else {
                let _ = peer.send(Frame::Close { channel });
                return Ok(());
            };
            deliver(&gate, peer, i, gate.sink.on_event(i, payload));
        }
        Frame::Backlog { channel, backlog } => {
            if let Some((gate, i)) = inner.inputs.lock().routes.get(&channel).cloned() {
                let mut state = gate.state.lock();
                let grants = state.credits.on_backlog(i, backlog);
                gate.announce(&state, grants);
            }
        }
        Frame::AddCredit { channel, credits } => {
            if let Some(out) = inner.outputs.lock().get(&channel).cloned() {
                out.add_credit(credits);
            }
        }
        Frame::Close { channel } => {
            if let Some(out) = inner.outputs.lock().get(&channel).cloned() {
                out.close(ChannelError::ReceiverGone);
            }
            let route = {
                let mut inputs = inner.inputs.lock();
                let opened_by = inputs.pending_opens.remove(&channel);
                let route = inputs.routes.get(&channel).cloned();
                // A sender that finished before its receiver was deployed: its events wait.
                if route.is_none()
                    && let Some(peer) = opened_by
                    && inputs.pending_events.contains_key(&channel)
                {
                    inputs.pending_closed.insert(channel, peer);
                }
                route
            };
            if let Some((gate, i)) = route {
                let mut state = gate.state.lock();
                let grants = state.credits.close(i);
                gate.announce(&state, grants);
                state.peers[i] = None;
            }
        }
        Frame::Error { message } => {
            return Err(format!("the TaskManager at {} reported an error: {message}", peer.address));
        }
        Frame::Hello { .. } | Frame::Welcome | Frame::Reject { .. } => {
            return Err("a handshake frame arrived on an established connection".into());
        }
    }
    Ok(())
}

/// The gate and index of `channel`; a frame for a channel not registered (its task is
/// gone, or belongs to an old attempt) is answered with a close.
fn route(inner: &Inner, peer: &Arc<Peer>, channel: ChannelId) -> Option<(Arc<GateInner>, usize)> {
    let route = inner.inputs.lock().routes.get(&channel).cloned();
    if route.is_none() {
        let _ = peer.send(Frame::Close { channel });
    }
    route
}

fn deliver(gate: &GateInner, peer: &Peer, channel: usize, result: Result<(), SinkError>) {
    match result {
        Ok(()) => {}
        Err(SinkError::Closed) => {
            let _ = peer.send(Frame::Close { channel: gate.ids[channel] });
        }
        Err(SinkError::Malformed(what)) => gate.fail(&format!(
            "{} from the TaskManager at {} does not decode: {what}; both TaskManagers must run the same program \
             and Brook version",
            gate.ids[channel], peer.address
        )),
    }
}
