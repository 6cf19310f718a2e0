//! Brook's state (DESIGN.md §6): named state descriptors, keyed state scoped to
//! the current key and namespace, operator state, the state backends, and
//! snapshots partitioned by key group.
