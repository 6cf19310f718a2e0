//! The Nexmark benchmark's events (`../shared/nexmark/SPEC.md` §1): persons who
//! register, auctions they open, bids on those auctions.

pub mod model;

pub use model::{Auction, Bid, Event, Person};
