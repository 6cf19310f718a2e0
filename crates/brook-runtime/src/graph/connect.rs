//! Which subtasks an edge connects.
//!
//! All-to-all edges (hash, rebalance, shuffle, broadcast, global, custom) connect
//! every upstream subtask to every downstream subtask. Pointwise edges (forward,
//! rescale) connect each subtask to a contiguous few, exactly as Flink's
//! `EdgeManagerBuildUtil.connectPointwise` does.

use crate::partitioner::ShipStrategy;

/// The downstream subtasks upstream subtask `up` writes to, in channel order.
pub fn downstream_targets(strategy: ShipStrategy, up_p: usize, down_p: usize, up: usize) -> Vec<usize> {
    if !strategy.is_pointwise() {
        return (0..down_p).collect();
    }
    if up_p >= down_p {
        // Several upstream subtasks feed each downstream subtask.
        (0..down_p).filter(|&d| (d * up_p / down_p..(d + 1) * up_p / down_p).contains(&up)).collect()
    } else {
        let start = (up * down_p).div_ceil(up_p);
        let end = ((up + 1) * down_p).div_ceil(up_p);
        (start..end).collect()
    }
}

/// The upstream subtasks that feed downstream subtask `down`, in channel order.
pub fn upstream_sources(strategy: ShipStrategy, up_p: usize, down_p: usize, down: usize) -> Vec<usize> {
    (0..up_p).filter(|&u| downstream_targets(strategy, up_p, down_p, u).contains(&down)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rescale_fans_out_and_in_like_flink() {
        assert_eq!(downstream_targets(ShipStrategy::Rescale, 2, 4, 0), vec![0, 1]);
        assert_eq!(downstream_targets(ShipStrategy::Rescale, 2, 4, 1), vec![2, 3]);
        assert_eq!(downstream_targets(ShipStrategy::Rescale, 4, 2, 3), vec![1]);
        assert_eq!(upstream_sources(ShipStrategy::Rescale, 4, 2, 0), vec![0, 1]);
        assert_eq!(downstream_targets(ShipStrategy::Forward, 3, 3, 2), vec![2]);
        assert_eq!(downstream_targets(ShipStrategy::Hash, 2, 3, 1), vec![0, 1, 2]);
    }

    proptest! {
        /// Every pointwise connection is seen from both ends, every subtask has at
        /// least one partner, and upstream subtasks are never left unconnected.
        #[test]
        fn pointwise_is_consistent(up_p in 1usize..12, down_p in 1usize..12) {
            let mut pairs = 0;
            for u in 0..up_p {
                let t = downstream_targets(ShipStrategy::Rescale, up_p, down_p, u);
                prop_assert!(!t.is_empty());
                pairs += t.len();
            }
            let mut back = 0;
            for d in 0..down_p {
                let s = upstream_sources(ShipStrategy::Rescale, up_p, down_p, d);
                prop_assert!(!s.is_empty());
                back += s.len();
            }
            prop_assert_eq!(pairs, back);
            prop_assert_eq!(pairs, up_p.max(down_p));
        }
    }
}
