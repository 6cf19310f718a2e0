//! The execution plan as JSON: Flink's `getExecutionPlan()` node list, plus the
//! operator chains (JobGraph vertices) Brook will deploy.

use super::job_graph::JobGraph;
use super::stream_graph::StreamGraph;
use serde_json::{Value, json};

impl StreamGraph {
    /// The plan of this (resolved) graph chained as `job_graph`.
    pub fn execution_plan(&self, job_graph: &JobGraph) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .values()
            .map(|n| {
                let mut node = json!({
                    "id": n.id.0,
                    "type": n.name,
                    "pact": n.pact,
                    "contents": n.name,
                    "parallelism": n.parallelism(),
                    "max_parallelism": n.max_parallelism(),
                    "slot_sharing_group": n.slot_sharing_group(),
                });
                if let Some(uid) = &n.uid {
                    node["uid"] = json!(uid);
                }
                let preds: Vec<Value> = self
                    .in_edges(n.id)
                    .map(|e| {
                        let mut p = json!({
                            "id": e.source.0,
                            "ship_strategy": e.partitioner.strategy.name(),
                            "side": if e.input == 0 { "first" } else { "second" },
                        });
                        if let Some(tag) = &e.side_output {
                            p["side_output"] = json!(tag);
                        }
                        p
                    })
                    .collect();
                if !preds.is_empty() {
                    node["predecessors"] = Value::Array(preds);
                }
                node
            })
            .collect();
        let vertices: Vec<Value> = job_graph
            .vertices
            .iter()
            .map(|v| {
                let inputs: Vec<Value> = job_graph
                    .edges
                    .iter()
                    .filter(|e| e.target_vertex == v.id)
                    .map(|e| {
                        json!({
                            "id": e.source_vertex.to_string(),
                            "num": e.input,
                            "ship_strategy": e.strategy.name(),
                        })
                    })
                    .collect();
                json!({
                    "id": v.id.to_string(),
                    "name": v.name,
                    "parallelism": v.parallelism,
                    "max_parallelism": v.max_parallelism,
                    "slot_sharing_group": v.slot_sharing_group,
                    "operators": v.operators.iter().map(|o| json!({
                        "node": o.node.0,
                        "name": o.name,
                        "operator_id": o.operator_id.to_string(),
                    })).collect::<Vec<_>>(),
                    "inputs": inputs,
                })
            })
            .collect();
        json!({
            "jid": job_graph.job_id.to_string(),
            "name": job_graph.job_name,
            "type": if job_graph.batch { "BATCH" } else { "STREAMING" },
            "nodes": nodes,
            "vertices": vertices,
        })
    }
}
