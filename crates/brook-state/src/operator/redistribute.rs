//! Redistributing operator state to a new parallelism: a pure function of the
//! old subtasks' snapshots (Flink's `RoundRobinOperatorStateRepartitioner`).

use super::format::{self, ParsedState, SnapshotEncoder};
use super::{OperatorStateMode, OperatorStateSnapshot};
use crate::error::{Result, StateError};

/// The snapshots the `new_parallelism` new subtasks restore, from the snapshots of
/// all old subtasks (`old[i]` is old subtask `i`'s):
///
/// - split list state: at the same parallelism each subtask keeps its own;
///   otherwise all elements, in old-subtask order, are cut into consecutive
///   chunks, the first `total % new_parallelism` of them one element longer;
/// - union list state: every new subtask gets all elements;
/// - broadcast state: new subtask `i` gets old subtask `i % old.len()`'s map.
///
/// Every new snapshot lists every state, possibly empty.
pub fn redistribute_operator_state<B: AsRef<[u8]>>(
    old: &[B],
    new_parallelism: usize,
) -> Result<Vec<OperatorStateSnapshot>> {
    if new_parallelism == 0 {
        return Err(StateError::ZeroParallelism);
    }
    let parsed: Vec<Vec<ParsedState<'_>>> = old.iter().map(|s| format::parse(s.as_ref())).collect::<Result<_>>()?;
    // Every state name, in the order first seen, with its mode and type.
    let mut names: Vec<(&str, OperatorStateMode, &str)> = Vec::new();
    for state in parsed.iter().flatten() {
        match names.iter().find(|(n, _, _)| *n == state.name) {
            Some(&(_, mode, _)) if mode != state.mode => {
                return Err(StateError::OperatorStateModeMismatch {
                    name: state.name.clone(),
                    first: mode,
                    second: state.mode,
                });
            }
            Some(_) => {}
            None => names.push((&state.name, state.mode, &state.type_name)),
        }
    }
    let mut new: Vec<SnapshotEncoder> = (0..new_parallelism).map(|_| SnapshotEncoder::new(names.len())).collect();
    for &(name, mode, type_name) in &names {
        let per_old: Vec<&[&[u8]]> = parsed
            .iter()
            .map(|states| states.iter().find(|s| s.name == name).map_or(&[][..], |s| s.items.as_slice()))
            .collect();
        let assigned: Vec<Vec<&[u8]>> = match mode {
            OperatorStateMode::SplitDistribute if per_old.len() == new_parallelism => {
                per_old.iter().map(|items| items.to_vec()).collect()
            }
            OperatorStateMode::SplitDistribute => {
                let all: Vec<&[u8]> = per_old.concat();
                let base = all.len() / new_parallelism;
                let remainder = all.len() % new_parallelism;
                let mut start = 0;
                (0..new_parallelism)
                    .map(|i| {
                        let n = base + usize::from(i < remainder);
                        let chunk = all[start..start + n].to_vec();
                        start += n;
                        chunk
                    })
                    .collect()
            }
            OperatorStateMode::Union => {
                let all: Vec<&[u8]> = per_old.concat();
                vec![all; new_parallelism]
            }
            OperatorStateMode::Broadcast => (0..new_parallelism).map(|i| per_old[i % per_old.len()].to_vec()).collect(),
        };
        for (encoder, items) in new.iter_mut().zip(assigned) {
            encoder.begin_state(name, mode, type_name, items.len());
            items.iter().for_each(|item| encoder.raw(item));
        }
    }
    Ok(new.into_iter().map(|e| OperatorStateSnapshot { bytes: e.out }).collect())
}
