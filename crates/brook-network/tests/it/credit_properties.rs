//! The credit protocol, simulated with the receiver's state machine and a sender that
//! follows the rules of `OutputChannel`, over two FIFO links with arbitrary delays.

use brook_network::ReceiverCredits;
use proptest::prelude::*;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
enum ToReceiver {
    Buffer { channel: usize, id: u32, backlog: u32 },
    Backlog { channel: usize, backlog: u32 },
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Produce(usize),
    Send,
    DeliverToReceiver,
    DeliverToSender,
    Consume,
}

fn step(channels: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..channels).prop_map(Step::Produce),
        3 => Just(Step::Send),
        2 => Just(Step::DeliverToReceiver),
        2 => Just(Step::DeliverToSender),
        2 => Just(Step::Consume),
    ]
}

struct Sim {
    exclusive: u32,
    floating: u32,
    receiver: ReceiverCredits,
    /// Sender side, per channel: credits, waiting buffers, backlog announced.
    credits: Vec<u32>,
    waiting: Vec<VecDeque<u32>>,
    announced: Vec<bool>,
    next_id: Vec<u32>,
    to_receiver: VecDeque<ToReceiver>,
    to_sender: VecDeque<(usize, u32)>,
    /// Buffers the receiver holds, in arrival order (the gate's queue).
    held: VecDeque<(usize, u32)>,
    delivered: Vec<Vec<u32>>,
}

impl Sim {
    fn new(channels: usize, exclusive: u32, floating: u32) -> Self {
        let mut receiver = ReceiverCredits::new(channels, exclusive, floating);
        let mut to_sender = VecDeque::new();
        for c in 0..channels {
            to_sender.extend(receiver.open(c));
        }
        Self {
            exclusive,
            floating,
            receiver,
            credits: vec![0; channels],
            waiting: vec![VecDeque::new(); channels],
            announced: vec![false; channels],
            next_id: vec![0; channels],
            to_receiver: VecDeque::new(),
            to_sender,
            held: VecDeque::new(),
            delivered: vec![Vec::new(); channels],
        }
    }

    fn apply(&mut self, step: Step) -> Result<(), String> {
        match step {
            Step::Produce(c) => {
                self.waiting[c].push_back(self.next_id[c]);
                self.next_id[c] += 1;
            }
            Step::Send => {
                for c in 0..self.credits.len() {
                    while self.credits[c] > 0 {
                        let Some(id) = self.waiting[c].pop_front() else { break };
                        self.credits[c] -= 1;
                        let backlog = self.waiting[c].len() as u32;
                        self.to_receiver.push_back(ToReceiver::Buffer { channel: c, id, backlog });
                    }
                    if self.credits[c] == 0 && !self.waiting[c].is_empty() && !self.announced[c] {
                        self.announced[c] = true;
                        let backlog = self.waiting[c].len() as u32;
                        self.to_receiver.push_back(ToReceiver::Backlog { channel: c, backlog });
                    }
                }
            }
            Step::DeliverToReceiver => match self.to_receiver.pop_front() {
                Some(ToReceiver::Buffer { channel, id, backlog }) => {
                    let grants = self.receiver.on_buffer(channel, backlog).map_err(|e| e.to_string())?;
                    self.to_sender.extend(grants);
                    self.held.push_back((channel, id));
                }
                Some(ToReceiver::Backlog { channel, backlog }) => {
                    self.to_sender.extend(self.receiver.on_backlog(channel, backlog));
                }
                None => {}
            },
            Step::DeliverToSender => {
                if let Some((c, n)) = self.to_sender.pop_front() {
                    self.credits[c] += n;
                    self.announced[c] = false;
                }
            }
            Step::Consume => {
                if let Some((c, id)) = self.held.pop_front() {
                    self.delivered[c].push(id);
                    self.to_sender.extend(self.receiver.release(c));
                }
            }
        }
        self.check()
    }

    fn check(&self) -> Result<(), String> {
        self.receiver.check_invariants(self.floating)?;
        let in_flight = self.to_receiver.iter().filter(|m| matches!(m, ToReceiver::Buffer { .. })).count();
        let bound = self.credits.len() * self.exclusive as usize + self.floating as usize;
        if in_flight + self.held.len() > bound {
            return Err(format!(
                "{in_flight} buffers in flight + {} held exceed the {bound} credits of the gate",
                self.held.len()
            ));
        }
        Ok(())
    }

    /// Runs every link and the consumer until nothing moves.
    fn drain(&mut self) -> Result<(), String> {
        for _ in 0..10_000 {
            self.apply(Step::Send)?;
            self.apply(Step::DeliverToReceiver)?;
            self.apply(Step::DeliverToSender)?;
            self.apply(Step::Consume)?;
            let idle = self.to_receiver.is_empty() && self.to_sender.is_empty() && self.held.is_empty();
            if idle && self.pending() == 0 {
                return Ok(());
            }
        }
        Err(format!("deadlock: {} buffers wait for credits that never come", self.pending()))
    }

    fn pending(&self) -> usize {
        self.waiting.iter().map(VecDeque::len).sum()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn credits_bound_buffers_in_flight_and_every_buffer_arrives_once_in_order(
        (channels, exclusive, floating, steps) in (1usize..5, 1u32..3, 0u32..5).prop_flat_map(|(n, e, f)| {
            (Just(n), Just(e), Just(f), proptest::collection::vec(step(n), 0..400))
        })
    ) {
        let mut sim = Sim::new(channels, exclusive, floating);
        for s in steps {
            sim.apply(s).map_err(TestCaseError::fail)?;
        }
        sim.drain().map_err(TestCaseError::fail)?;
        for c in 0..channels {
            let expected: Vec<u32> = (0..sim.next_id[c]).collect();
            prop_assert_eq!(&sim.delivered[c], &expected, "channel {}", c);
        }
    }
}
