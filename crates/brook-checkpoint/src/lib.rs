//! Brook's checkpoints (DESIGN.md §7): where checkpoints and savepoints are
//! stored, their versioned layout and metadata, and retention.
