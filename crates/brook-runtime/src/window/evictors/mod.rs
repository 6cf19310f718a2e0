//! The built-in evictors, each with Flink's semantics. Each evicts before the
//! window function by default, or after it with `do_evict_after`.
//!
//! | evictor | keeps |
//! |---|---|
//! | [`CountEvictor`] | the last `n` elements |
//! | [`TimeEvictor`] | the elements within `size` of the newest element's timestamp |
//! | [`DeltaEvictor`] | the elements whose distance to the last element is below a threshold |

mod count;
mod delta;
mod time;

pub use count::CountEvictor;
pub use delta::DeltaEvictor;
pub use time::TimeEvictor;
