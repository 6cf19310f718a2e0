//! The connection manager: one TCP connection per pair of TaskManagers, used in both
//! directions.
//!
//! A TaskManager that needs to send to a peer it has no connection to dials it and
//! sends `Hello` with its own advertised address; the peer answers `Welcome` (this
//! connection carries both directions from now on) or `Reject`. When both dial each
//! other at once, both connections would arrive; the tie-break keeps **the connection
//! dialed by the TaskManager with the smaller address** (string order of `host:port`):
//! an acceptor that is itself dialing the peer accepts only if the peer's address is
//! smaller than its own. A rejected dialer waits for the peer's connection, which is
//! on its way. Frames queued for a peer before any connection is attached wait in the
//! peer's queue and leave, in order, on whichever connection is attached.

use crate::environment::{Inner, dispatch, fail_peer};
use crate::frame::{Frame, PROTOCOL_VERSION};
use crate::peer::Peer;
use bytes::BytesMut;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const WRITE_BATCH: usize = 256 << 10;

/// The peer at `address`, dialing it if there is none.
pub(crate) fn peer(inner: &Arc<Inner>, address: &str) -> Arc<Peer> {
    let mut peers = inner.peers.lock();
    if let Some(p) = peers.get(address) {
        return p.clone();
    }
    let peer = Peer::new(address.to_string(), inner.queued_bytes.clone());
    peer.state.lock().dialing = true;
    peers.insert(address.to_string(), peer.clone());
    drop(peers);
    let task = tokio::spawn(dial(inner.clone(), peer.clone()));
    peer.state.lock().tasks.push(task);
    peer
}

async fn dial(inner: Arc<Inner>, peer: Arc<Peer>) {
    let deadline = tokio::time::Instant::now() + inner.config.connect_timeout;
    let mut backoff = Duration::from_millis(20);
    let stream = loop {
        let attempt = tokio::time::timeout_at(deadline, TcpStream::connect(&peer.address)).await;
        match attempt {
            Ok(Ok(stream)) => break stream,
            Ok(Err(e)) if tokio::time::Instant::now() + backoff < deadline => {
                tracing::debug!(peer = %peer.address, error = %e, "data-plane connect failed, retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            Ok(Err(e)) => return fail_unreachable(&inner, &peer, &e.to_string()),
            Err(_) => return fail_unreachable(&inner, &peer, "timed out"),
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::new();
    Frame::Hello { version: PROTOCOL_VERSION, address: inner.address.clone() }.encode(&mut buf);
    let reply = async {
        wr.write_all(&buf).await.map_err(|e| e.to_string())?;
        buf.clear();
        read_frame(&mut rd, &mut buf, inner.config.max_frame_bytes).await
    };
    match tokio::time::timeout_at(deadline, reply).await {
        Ok(Ok(Frame::Welcome)) => {
            peer.state.lock().dialing = false;
            attach(&inner, &peer, rd, wr, buf);
        }
        Ok(Ok(Frame::Reject { reason })) => {
            tracing::debug!(peer = %peer.address, %reason, "data-plane dial rejected; using the peer's connection");
            peer.state.lock().dialing = false;
            // The peer's own connection attaches this peer; if it never comes, fail.
            tokio::time::sleep_until(deadline).await;
            if !peer.state.lock().attached {
                fail_peer(
                    &inner,
                    &peer,
                    format!(
                        "the TaskManager at {} rejected the data-plane connection ({reason}) and did not connect \
                         back within {:?}; check that both TaskManagers can reach each other",
                        peer.address, inner.config.connect_timeout
                    ),
                );
            }
        }
        Ok(Ok(other)) => fail_peer(
            &inner,
            &peer,
            format!("the TaskManager at {} answered the handshake with {other:?}", peer.address),
        ),
        Ok(Err(e)) => fail_peer(
            &inner,
            &peer,
            format!("the data-plane handshake with the TaskManager at {} failed: {e}", peer.address),
        ),
        Err(_) => fail_peer(
            &inner,
            &peer,
            format!("the TaskManager at {} did not answer the data-plane handshake in time", peer.address),
        ),
    }
}

fn fail_unreachable(inner: &Inner, peer: &Arc<Peer>, error: &str) {
    fail_peer(
        inner,
        peer,
        format!(
            "cannot connect to the data plane of the TaskManager at {}: {error}; check that it runs and that its \
             taskmanager.data.port is reachable from here",
            peer.address
        ),
    );
}

pub(crate) async fn accept_loop(inner: Arc<Inner>, listener: tokio::net::TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                tokio::spawn(accept(inner.clone(), stream, remote));
            }
            Err(e) => {
                tracing::warn!(error = %e, "data plane cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn accept(inner: Arc<Inner>, stream: TcpStream, remote: std::net::SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::new();
    let hello =
        tokio::time::timeout(inner.config.connect_timeout, read_frame(&mut rd, &mut buf, inner.config.max_frame_bytes))
            .await;
    let address = match hello {
        Ok(Ok(Frame::Hello { version: PROTOCOL_VERSION, address })) => address,
        Ok(Ok(Frame::Hello { version, .. })) => {
            let message = format!(
                "data-plane protocol version {version} is not supported (this TaskManager speaks \
                 {PROTOCOL_VERSION}); run the same Brook version on every TaskManager"
            );
            tracing::warn!(%remote, %message, "data-plane handshake refused");
            let _ = write_frame(&mut wr, Frame::Error { message }).await;
            return;
        }
        other => {
            tracing::warn!(%remote, outcome = ?other.map(|r| r.map(|_| "not a hello")), "data-plane handshake failed");
            return;
        }
    };
    let peer = {
        let mut peers = inner.peers.lock();
        match peers.get(&address) {
            None => {
                let peer = Peer::new(address.clone(), inner.queued_bytes.clone());
                peer.state.lock().attached = true;
                peers.insert(address.clone(), peer.clone());
                Some(peer)
            }
            Some(p) => {
                let mut state = p.state.lock();
                if !state.attached && state.failed.is_none() && (!state.dialing || address < inner.address) {
                    state.attached = true;
                    drop(state);
                    Some(p.clone())
                } else {
                    None
                }
            }
        }
    };
    let Some(peer) = peer else {
        let reason = format!("{} keeps its own connection to {address}", inner.address);
        let _ = write_frame(&mut wr, Frame::Reject { reason }).await;
        return;
    };
    if let Err(e) = write_frame(&mut wr, Frame::Welcome).await {
        fail_peer(&inner, &peer, format!("the data-plane handshake with the TaskManager at {address} failed: {e}"));
        return;
    }
    attach(&inner, &peer, rd, wr, buf);
}

/// Starts the reader and writer of the connection that carries `peer` from now on.
fn attach(inner: &Arc<Inner>, peer: &Arc<Peer>, rd: OwnedReadHalf, wr: OwnedWriteHalf, buf: BytesMut) {
    let mut state = peer.state.lock();
    state.attached = true;
    let Some(rx) = state.rx.take() else { return };
    if state.failed.is_some() {
        return;
    }
    state.tasks.push(tokio::spawn(write_loop(inner.clone(), peer.clone(), rx, wr)));
    state.tasks.push(tokio::spawn(read_loop(inner.clone(), peer.clone(), rd, buf)));
    tracing::debug!(peer = %peer.address, "data-plane connection attached");
}

async fn write_loop(
    inner: Arc<Inner>,
    peer: Arc<Peer>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Frame>,
    mut wr: OwnedWriteHalf,
) {
    let mut buf = BytesMut::with_capacity(64 << 10);
    while let Some(frame) = rx.recv().await {
        frame.encode(&mut buf);
        while buf.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(frame) => frame.encode(&mut buf),
                Err(_) => break,
            }
        }
        if let Err(e) = wr.write_all(&buf).await {
            return fail_peer(
                &inner,
                &peer,
                format!(
                    "the data-plane connection to the TaskManager at {} failed while writing: {e}; the peer \
                     stopped or the network failed — see that TaskManager's log",
                    peer.address
                ),
            );
        }
        peer.written(buf.len());
        buf.clear();
    }
}

async fn read_loop(inner: Arc<Inner>, peer: Arc<Peer>, mut rd: OwnedReadHalf, mut buf: BytesMut) {
    let max = inner.config.max_frame_bytes;
    loop {
        loop {
            match Frame::decode(&mut buf, max) {
                Ok(Some(frame)) => {
                    if let Err(violation) = dispatch(&inner, &peer, frame) {
                        let cause = format!(
                            "the data-plane connection to the TaskManager at {} broke the protocol: {violation}",
                            peer.address
                        );
                        let _ = peer.send(Frame::Error { message: cause.clone() });
                        return fail_peer(&inner, &peer, cause);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let cause = format!(
                        "the TaskManager at {} sent a malformed data-plane frame: {e}; both TaskManagers must run \
                         the same Brook version",
                        peer.address
                    );
                    let _ = peer.send(Frame::Error { message: cause.clone() });
                    // Give the writer a moment to tell the peer why.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    return fail_peer(&inner, &peer, cause);
                }
            }
        }
        buf.reserve(64 << 10);
        match rd.read_buf(&mut buf).await {
            Ok(0) => {
                return fail_peer(
                    &inner,
                    &peer,
                    format!(
                        "the TaskManager at {} closed the data-plane connection; it stopped or failed — see its log",
                        peer.address
                    ),
                );
            }
            Ok(_) => {}
            Err(e) => {
                return fail_peer(
                    &inner,
                    &peer,
                    format!(
                        "the data-plane connection to the TaskManager at {} failed while reading: {e}; see that \
                         TaskManager's log",
                        peer.address
                    ),
                );
            }
        }
    }
}

async fn read_frame(rd: &mut OwnedReadHalf, buf: &mut BytesMut, max: usize) -> Result<Frame, String> {
    loop {
        if let Some(frame) = Frame::decode(buf, max).map_err(|e| e.to_string())? {
            return Ok(frame);
        }
        buf.reserve(4096);
        if rd.read_buf(buf).await.map_err(|e| e.to_string())? == 0 {
            return Err("the connection closed".into());
        }
    }
}

async fn write_frame(wr: &mut OwnedWriteHalf, frame: Frame) -> std::io::Result<()> {
    let mut buf = BytesMut::new();
    frame.encode(&mut buf);
    wr.write_all(&buf).await
}
