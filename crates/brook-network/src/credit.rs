//! The receiver's side of credit-based flow control for one input gate, as a pure
//! state machine (no I/O): what credits to announce, and to which channel.
//!
//! Per open channel, with `E` exclusive credits and `floating` credits lent from the
//! gate's pool:
//!
//! - `unused + in_use == E + floating`, where `unused` credits are announced to the
//!   sender and not used yet and `in_use` buffers arrived and are not freed yet;
//! - the sum of `floating` over all channels plus `pool` is the gate's floating credits;
//! - a buffer that arrives without an unused credit is a protocol violation.
//!
//! Lending: a channel whose sender reports a backlog larger than its unused credits
//! gets floating credits from the pool (up to its backlog). A freed buffer becomes a
//! credit for its channel again, unless the channel holds floating credits it no
//! longer needs (its unused credits cover its backlog): then that credit goes back to
//! the pool and on to the channels that wait.

/// Credits to announce: `(channel index, credits)`.
pub type Grants = Vec<(usize, u32)>;

#[derive(Clone, Debug, Default)]
struct ChannelCredit {
    open: bool,
    unused: u32,
    in_use: u32,
    floating: u32,
    backlog: u32,
}

/// A buffer arrived on a channel that had no credit left (a sender bug or a peer that
/// does not follow the protocol).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel {channel} received a buffer without a credit")]
pub struct NoCredit {
    pub channel: usize,
}

/// The credits of one input gate.
#[derive(Clone, Debug)]
pub struct ReceiverCredits {
    exclusive: u32,
    pool: u32,
    channels: Vec<ChannelCredit>,
    /// Where the next round of lending starts, so that no channel starves.
    next: usize,
}

impl ReceiverCredits {
    pub fn new(num_channels: usize, exclusive_per_channel: u32, floating_per_gate: u32) -> Self {
        Self {
            exclusive: exclusive_per_channel.max(1),
            pool: floating_per_gate,
            channels: vec![ChannelCredit::default(); num_channels],
            next: 0,
        }
    }

    /// A sender opened `channel`: its exclusive credits.
    pub fn open(&mut self, channel: usize) -> Grants {
        let ch = &mut self.channels[channel];
        if ch.open {
            return Vec::new();
        }
        ch.open = true;
        ch.unused += self.exclusive;
        vec![(channel, self.exclusive)]
    }

    /// A buffer arrived on `channel` with the sender's backlog behind it.
    pub fn on_buffer(&mut self, channel: usize, backlog: u32) -> Result<Grants, NoCredit> {
        let ch = &mut self.channels[channel];
        if !ch.open || ch.unused == 0 {
            return Err(NoCredit { channel });
        }
        ch.unused -= 1;
        ch.in_use += 1;
        ch.backlog = backlog;
        Ok(self.lend())
    }

    /// The sender of `channel` waits with `backlog` buffers and no credit.
    pub fn on_backlog(&mut self, channel: usize, backlog: u32) -> Grants {
        let ch = &mut self.channels[channel];
        if !ch.open {
            return Vec::new();
        }
        ch.backlog = backlog;
        self.lend()
    }

    /// A buffer of `channel` was consumed and its memory is free again.
    pub fn release(&mut self, channel: usize) -> Grants {
        let ch = &mut self.channels[channel];
        if ch.in_use == 0 {
            // A buffer this state machine never counted (a local channel of a mixed gate).
            return Vec::new();
        }
        ch.in_use -= 1;
        if ch.floating > 0 && (!ch.open || ch.unused >= ch.backlog) {
            ch.floating -= 1;
            self.pool += 1;
            return self.lend();
        }
        if !ch.open {
            // Its exclusive credit stays with the closed channel, unannounced.
            return Vec::new();
        }
        ch.unused += 1;
        let mut grants = vec![(channel, 1)];
        grants.extend(self.lend());
        grants
    }

    /// The sender of `channel` is done: floating credits it did not use go back to the pool.
    pub fn close(&mut self, channel: usize) -> Grants {
        let ch = &mut self.channels[channel];
        if !ch.open {
            return Vec::new();
        }
        ch.open = false;
        let back = ch.floating.min(ch.unused);
        ch.floating -= back;
        ch.unused -= back;
        ch.backlog = 0;
        self.pool += back;
        self.lend()
    }

    /// Lends pool credits to channels whose backlog their unused credits do not cover.
    fn lend(&mut self) -> Grants {
        let mut grants = Vec::new();
        let n = self.channels.len();
        for k in 0..n {
            if self.pool == 0 {
                break;
            }
            let i = (self.next + k) % n;
            let ch = &mut self.channels[i];
            if ch.open && ch.backlog > ch.unused {
                let give = (ch.backlog - ch.unused).min(self.pool);
                ch.unused += give;
                ch.floating += give;
                self.pool -= give;
                grants.push((i, give));
                self.next = (i + 1) % n;
            }
        }
        grants
    }

    /// Credits announced to `channel`'s sender and not used yet.
    pub fn unused(&self, channel: usize) -> u32 {
        self.channels[channel].unused
    }

    /// Buffers of `channel` that arrived and are not freed yet.
    pub fn in_use(&self, channel: usize) -> u32 {
        self.channels[channel].in_use
    }

    /// Floating credits not lent to any channel.
    pub fn pool(&self) -> u32 {
        self.pool
    }

    /// Checks the invariants of the module documentation (for tests).
    pub fn check_invariants(&self, floating_per_gate: u32) -> Result<(), String> {
        let lent: u32 = self.channels.iter().map(|c| c.floating).sum();
        if lent + self.pool != floating_per_gate {
            return Err(format!("{lent} floating credits lent + {} in the pool != {floating_per_gate}", self.pool));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if c.open && c.unused + c.in_use != self.exclusive + c.floating {
                return Err(format!("channel {i}: {c:?} breaks unused + in_use == exclusive + floating"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_borrows_floating_credits_and_a_freed_one_goes_back_to_the_pool() {
        let mut c = ReceiverCredits::new(2, 2, 3);
        assert_eq!(c.open(0), vec![(0, 2)]);
        assert_eq!(c.open(1), vec![(1, 2)]);
        assert_eq!(c.on_buffer(0, 0), Ok(vec![]));
        assert_eq!(c.on_buffer(0, 5), Ok(vec![(0, 3)]), "backlog 5, no unused credit left: the whole pool");
        assert_eq!(c.on_backlog(1, 4), vec![], "the pool is empty");
        assert_eq!(c.release(0), vec![(0, 1)], "channel 0 still needs credits for its backlog: the credit stays");
        assert_eq!(c.on_buffer(0, 0), Ok(vec![]));
        assert_eq!(c.release(0), vec![(1, 1)], "channel 0 needs no more: a floating credit moves to channel 1");
        c.check_invariants(3).unwrap();
    }

    #[test]
    fn a_buffer_without_credit_is_refused() {
        let mut c = ReceiverCredits::new(1, 1, 0);
        assert_eq!(c.on_buffer(0, 0), Err(NoCredit { channel: 0 }), "not open");
        c.open(0);
        c.on_buffer(0, 0).unwrap();
        assert_eq!(c.on_buffer(0, 0), Err(NoCredit { channel: 0 }));
        assert_eq!(c.release(0), vec![(0, 1)]);
    }

    #[test]
    fn closing_returns_unused_floating_credits() {
        let mut c = ReceiverCredits::new(2, 1, 2);
        c.open(0);
        c.open(1);
        assert_eq!(c.on_backlog(0, 3), vec![(0, 2)]);
        assert_eq!(c.on_backlog(1, 2), vec![]);
        assert_eq!(c.close(0), vec![(1, 1)], "two back to the pool, channel 1 wants one more");
        assert_eq!(c.pool(), 1);
        c.check_invariants(2).unwrap();
    }
}
