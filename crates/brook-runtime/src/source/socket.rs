use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator};
use brook_types::{BrookError, Result, StreamRecord};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;

/// `socket_text_stream(host, port)`: lines read from a TCP server, from one subtask.
///
/// Unbounded until the server closes the connection; the remaining text after the
/// last delimiter is emitted then. Not replayable: after a failure, data that was
/// read but not checkpointed is lost (as with Flink's socket source).
#[derive(Clone, Debug)]
pub struct SocketTextSource {
    pub host: String,
    pub port: u16,
    pub delimiter: u8,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SocketSplit;

impl SourceSplit for SocketSplit {
    fn split_id(&self) -> String {
        "socket".into()
    }
}

impl Source<String> for SocketTextSource {
    type Split = SocketSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::ContinuousUnbounded
    }

    fn is_parallel(&self) -> bool {
        false
    }

    fn create_enumerator(&self, _parallelism: usize) -> Result<Box<dyn SplitEnumerator<SocketSplit>>> {
        Ok(Box::new(SocketEnumerator(true)))
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<String, SocketSplit>>> {
        let address = format!("{}:{}", self.host, self.port);
        Ok(Box::new(SocketReader {
            address: address.clone(),
            state: ReaderState::Idle,
            delimiter: self.delimiter,
            buffer: Vec::new(),
            batch_size: ctx.batch_size,
        }))
    }
}

struct SocketEnumerator(bool);

impl SplitEnumerator<SocketSplit> for SocketEnumerator {
    fn discover_splits(&mut self) -> Result<Vec<SocketSplit>> {
        Ok(if std::mem::replace(&mut self.0, false) { vec![SocketSplit] } else { vec![] })
    }
}

enum ReaderState {
    /// No split assigned.
    Idle,
    Connecting(Pin<Box<dyn Future<Output = std::io::Result<TcpStream>> + Send>>),
    Reading(TcpStream),
    Done,
}

struct SocketReader {
    address: String,
    state: ReaderState,
    delimiter: u8,
    buffer: Vec<u8>,
    batch_size: usize,
}

impl SocketReader {
    fn drain_lines(&mut self, out: &mut Vec<StreamRecord<String>>) {
        let mut start = 0;
        let mut emitted = 0;
        while let Some(pos) = memchr::memchr(self.delimiter, &self.buffer[start..]) {
            let mut line = &self.buffer[start..start + pos];
            if self.delimiter == b'\n' {
                line = line.strip_suffix(b"\r").unwrap_or(line);
            }
            out.push(StreamRecord::new(String::from_utf8_lossy(line).into_owned()));
            start += pos + 1;
            emitted += 1;
            if emitted >= self.batch_size {
                break;
            }
        }
        self.buffer.drain(..start);
    }
}

impl SourceReader<String, SocketSplit> for SocketReader {
    fn add_splits(&mut self, splits: Vec<SocketSplit>) {
        if !splits.is_empty() && matches!(self.state, ReaderState::Idle) {
            let address = self.address.clone();
            self.state = ReaderState::Connecting(Box::pin(TcpStream::connect(address)));
        }
    }

    fn no_more_splits(&mut self) {
        if matches!(self.state, ReaderState::Idle) {
            self.state = ReaderState::Done;
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>, out: &mut Vec<StreamRecord<String>>) -> Poll<Result<ReaderStatus>> {
        loop {
            match &mut self.state {
                ReaderState::Idle => return Poll::Pending,
                ReaderState::Done => return Poll::Ready(Ok(ReaderStatus::EndOfInput)),
                ReaderState::Connecting(fut) => match fut.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(stream)) => self.state = ReaderState::Reading(stream),
                    Poll::Ready(Err(e)) => {
                        self.state = ReaderState::Done;
                        return Poll::Ready(Err(BrookError::Connect {
                            address: format!("{} (socket source)", self.address),
                            error: e,
                        }));
                    }
                },
                ReaderState::Reading(_) if memchr::memchr(self.delimiter, &self.buffer).is_some() => {
                    // Complete lines left over from the last read come first.
                    self.drain_lines(out);
                    return Poll::Ready(Ok(ReaderStatus::MoreAvailable));
                }
                ReaderState::Reading(stream) => {
                    let mut chunk = [0u8; 64 * 1024];
                    let mut buf = ReadBuf::new(&mut chunk);
                    match Pin::new(stream).poll_read(cx, &mut buf) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => {
                            self.state = ReaderState::Done;
                            return Poll::Ready(Err(BrookError::Connect {
                                address: format!("{} (socket source, while reading)", self.address),
                                error: e,
                            }));
                        }
                        Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                            // The server closed the connection: emit the rest and end.
                            self.drain_lines(out);
                            if !self.buffer.is_empty() {
                                let rest = std::mem::take(&mut self.buffer);
                                out.push(StreamRecord::new(String::from_utf8_lossy(&rest).into_owned()));
                            }
                            self.state = ReaderState::Done;
                            return Poll::Ready(Ok(ReaderStatus::MoreAvailable));
                        }
                        Poll::Ready(Ok(())) => {
                            self.buffer.extend_from_slice(buf.filled());
                            self.drain_lines(out);
                            if !out.is_empty() {
                                return Poll::Ready(Ok(ReaderStatus::MoreAvailable));
                            }
                        }
                    }
                }
            }
        }
    }

    fn snapshot_splits(&self) -> Vec<SocketSplit> {
        vec![SocketSplit]
    }
}
