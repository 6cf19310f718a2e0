//! The record writer: the task-side end of an outgoing edge.
//!
//! Operators call it synchronously (it is an [`Output`]); it partitions records into
//! per-channel buffers and queues a buffer for sending when it holds `batch_size`
//! records. Sending needs a credit from the receiver, which only the task's async
//! loop can wait for, so the writer's state is shared with the task through
//! [`PendingSends`]: after each input element the task sends everything queued
//! (waiting for credits — this is where backpressure stops a task), and on the
//! buffer timeout it flushes partly filled buffers.

use crate::channel::{ChannelClosed, ChannelWriter};
use crate::checkpoint::{ElementCodec, is_channel_data, stops_overtaking};
use crate::output::Output;
use crate::partitioner::Partitioner;
use brook_types::{Batch, CheckpointBarrier, StreamElement, StreamRecord, Watermark, WatermarkStatus};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What the task loop sees of a record writer.
pub trait PendingSends: Send + Sync {
    /// Sends queued elements; ready when nothing is queued any more.
    fn poll_send(&self, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>>;
    /// Queues partly filled buffers (buffer timeout).
    fn flush(&self);
    /// Queues a checkpoint barrier on every channel, behind everything buffered.
    fn emit_barrier(&self, barrier: CheckpointBarrier);
    /// Queues an unaligned barrier on every channel ahead of the data queued there
    /// (behind the newest barrier or end of input only, so barriers stay in order), and
    /// returns, per channel, the encoded data it overtook: the output channel state.
    fn emit_unaligned_barrier(&self, barrier: CheckpointBarrier) -> Result<Vec<Vec<Vec<u8>>>, String>;
    /// The number of channels of this writer.
    fn num_channels(&self) -> usize;
    /// Queues recovered output channel state on `channel`, ahead of anything the
    /// restored task will produce.
    fn restore_output(&self, channel: usize, elements: &[Vec<u8>]) -> Result<(), String>;
}

struct WriterState<T> {
    partitioner: Box<dyn Partitioner<T>>,
    buffers: Vec<Vec<StreamRecord<T>>>,
    channels: Vec<Box<dyn ChannelWriter<T>>>,
    /// Elements waiting for a credit, per channel, in order.
    pending: Vec<VecDeque<StreamElement<T>>>,
    has_pending: bool,
    batch_size: usize,
    /// Encodes overtaken data for unaligned checkpoints; `None`: the record type is not
    /// serializable here (tests), and unaligned barriers are refused.
    codec: Option<ElementCodec<T>>,
}

/// The writer of one outgoing edge of one subtask.
pub struct RecordWriter<T> {
    state: Arc<Mutex<WriterState<T>>>,
}

impl<T: Send + 'static> RecordWriter<T> {
    /// A writer over `channels`, returning the chain-side output and the task-side handle.
    pub fn create(
        partitioner: Box<dyn Partitioner<T>>,
        channels: Vec<Box<dyn ChannelWriter<T>>>,
        batch_size: usize,
        codec: Option<ElementCodec<T>>,
    ) -> (Box<dyn Output<T>>, Arc<dyn PendingSends>) {
        let n = channels.len();
        assert!(n > 0, "an edge connects each upstream subtask to at least one channel");
        let state = Arc::new(Mutex::new(WriterState {
            partitioner,
            buffers: (0..n).map(|_| Vec::new()).collect(),
            channels,
            pending: (0..n).map(|_| VecDeque::new()).collect(),
            has_pending: false,
            batch_size: batch_size.max(1),
            codec,
        }));
        (Box::new(RecordWriter { state: state.clone() }), Arc::new(WriterHandle { state }))
    }
}

impl<T> WriterState<T> {
    fn queue_full_buffers(&mut self) {
        let size = self.batch_size;
        for (i, buf) in self.buffers.iter_mut().enumerate() {
            if buf.len() < size {
                continue;
            }
            if buf.len() <= 2 * size {
                let full = std::mem::replace(buf, Vec::with_capacity(size));
                self.pending[i].push_back(StreamElement::Records(full));
            } else {
                // A huge batch (e.g. from a flat_map) is cut so that one credit
                // never carries more than about two batches of records.
                let mut records = std::mem::take(buf).into_iter();
                loop {
                    let chunk: Vec<StreamRecord<T>> = records.by_ref().take(size).collect();
                    if chunk.len() < size {
                        *buf = chunk;
                        break;
                    }
                    self.pending[i].push_back(StreamElement::Records(chunk));
                }
            }
            self.has_pending = true;
        }
    }

    fn queue_all_buffers(&mut self) {
        for (i, buf) in self.buffers.iter_mut().enumerate() {
            if !buf.is_empty() {
                let partial = std::mem::take(buf);
                self.pending[i].push_back(StreamElement::Records(partial));
                self.has_pending = true;
            }
        }
    }

    fn queue_event_to_all(&mut self, event: impl Fn() -> StreamElement<T>) {
        self.queue_all_buffers();
        for p in &mut self.pending {
            p.push_back(event());
        }
        self.has_pending = true;
    }

    /// Puts `barrier` ahead of the data queued on every channel; returns the encoded
    /// data it overtook, per channel.
    fn queue_unaligned_barrier(&mut self, barrier: CheckpointBarrier) -> Result<Vec<Vec<Vec<u8>>>, String> {
        let codec = self
            .codec
            .ok_or_else(|| "this record writer cannot encode its records for an unaligned checkpoint".to_string())?;
        self.queue_all_buffers();
        // Encode first, so that a failure leaves the queues as they were.
        let mut overtaken = Vec::with_capacity(self.pending.len());
        let mut positions = Vec::with_capacity(self.pending.len());
        for queue in &self.pending {
            // Barriers of older checkpoints and end of input are never overtaken;
            // latency markers are, but are not kept.
            let at = queue.iter().rposition(stops_overtaking).map_or(0, |i| i + 1);
            let encoded = queue
                .range(at..)
                .filter(|e| is_channel_data(e))
                .map(|e| (codec.encode)(e).map_err(|err| format!("an output {} does not encode: {err}", e.kind())))
                .collect::<Result<Vec<_>, _>>()?;
            overtaken.push(encoded);
            positions.push(at);
        }
        for (queue, at) in self.pending.iter_mut().zip(positions) {
            queue.insert(at, StreamElement::Barrier(barrier));
        }
        self.has_pending = true;
        Ok(overtaken)
    }

    fn restore_output(&mut self, channel: usize, elements: &[Vec<u8>]) -> Result<(), String> {
        let codec = self.codec.ok_or_else(|| "this record writer cannot decode recovered records".to_string())?;
        let queue = self.pending.get_mut(channel).ok_or_else(|| {
            format!(
                "recovered output state names channel {channel}, but the writer has {} channels",
                self.channels.len()
            )
        })?;
        for bytes in elements {
            queue.push_back(
                (codec.decode)(bytes).map_err(|e| format!("a recovered output element does not decode: {e}"))?,
            );
        }
        self.has_pending = true;
        Ok(())
    }

    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>> {
        if !self.has_pending {
            return Poll::Ready(Ok(()));
        }
        let mut blocked = false;
        for (channel, queue) in self.channels.iter_mut().zip(self.pending.iter_mut()) {
            while let Some(front) = queue.front() {
                if matches!(front, StreamElement::Records(_)) {
                    channel.set_backlog(queue.len());
                    match channel.poll_ready(cx) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {
                            blocked = true;
                            break;
                        }
                    }
                }
                let element = queue.pop_front().expect("front exists");
                channel.send(element)?;
            }
        }
        if blocked {
            Poll::Pending
        } else {
            self.has_pending = false;
            Poll::Ready(Ok(()))
        }
    }
}

impl<T: Send> Output<T> for RecordWriter<T> {
    #[inline]
    fn collect(&mut self, batch: Batch<T>) {
        let mut state = self.state.lock();
        let state = &mut *state;
        state.partitioner.partition(batch, &mut state.buffers);
        state.queue_full_buffers();
    }

    fn emit_watermark(&mut self, watermark: Watermark) {
        self.state.lock().queue_event_to_all(|| StreamElement::Watermark(watermark));
    }

    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.state.lock().queue_event_to_all(|| StreamElement::WatermarkStatus(status));
    }

    fn end_input(&mut self) {
        self.state.lock().queue_event_to_all(|| StreamElement::EndOfInput);
    }
}

struct WriterHandle<T> {
    state: Arc<Mutex<WriterState<T>>>,
}

impl<T: Send> PendingSends for WriterHandle<T> {
    fn poll_send(&self, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>> {
        self.state.lock().poll_send(cx)
    }

    fn flush(&self) {
        self.state.lock().queue_all_buffers();
    }

    fn emit_barrier(&self, barrier: CheckpointBarrier) {
        self.state.lock().queue_event_to_all(|| StreamElement::Barrier(barrier));
    }

    fn emit_unaligned_barrier(&self, barrier: CheckpointBarrier) -> Result<Vec<Vec<Vec<u8>>>, String> {
        self.state.lock().queue_unaligned_barrier(barrier)
    }

    fn num_channels(&self) -> usize {
        self.state.lock().channels.len()
    }

    fn restore_output(&self, channel: usize, elements: &[Vec<u8>]) -> Result<(), String> {
        self.state.lock().restore_output(channel, elements)
    }
}
