//! The dependency graph: deterministic order and cycle reporting.
//!
//! Order rule (guide §2.2.5): among the sessions whose dependencies are all placed, pick the
//! lowest `wave` (absent = 0), then the lowest id in natural order (`BE-2` before `BE-10`).
//! The result therefore does not depend on the order sessions appear in files.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};

/// A node for ordering: its id and wave.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub wave: Option<i64>,
}

/// Natural-order key: `SKE-06b` → [S("SKE-"), N(6), S("b")].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Chunk {
    Num(u64, usize),
    Text(String),
}

fn natural_key(s: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() != digits && !cur.is_empty() {
            out.push(chunk(&cur, digits));
            cur.clear();
        }
        digits = c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(chunk(&cur, digits));
    }
    out
}

fn chunk(s: &str, digits: bool) -> Chunk {
    if digits {
        Chunk::Num(s.parse().unwrap_or(u64::MAX), s.len())
    } else {
        Chunk::Text(s.to_string())
    }
}

/// Compare two ids in natural order.
pub fn cmp_ids(a: &str, b: &str) -> Ordering {
    natural_key(a).cmp(&natural_key(b)).then_with(|| a.cmp(b))
}

/// Order `nodes` so that every edge `(from, to)` — "`from` requires `to`" — has `to` first.
/// On cycles, returns every elementary cycle found, one per strongly connected component, each
/// as the list of node indexes `[a, b, c]` meaning `a -> b -> c -> a`.
pub fn order(nodes: &[Node], edges: &[(usize, usize)]) -> Result<Vec<usize>, Vec<Vec<usize>>> {
    let n = nodes.len();
    let keys: Vec<(i64, Vec<Chunk>, usize)> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (node.wave.unwrap_or(0), natural_key(&node.id), i))
        .collect();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to) in edges {
        indegree[from] += 1;
        dependents[to].push(from);
    }
    let mut heap: BinaryHeap<Reverse<&(i64, Vec<Chunk>, usize)>> = keys
        .iter()
        .filter(|k| indegree[k.2] == 0)
        .map(Reverse)
        .collect();
    let mut out = Vec::with_capacity(n);
    while let Some(Reverse(k)) = heap.pop() {
        out.push(k.2);
        for &d in &dependents[k.2] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                heap.push(Reverse(&keys[d]));
            }
        }
    }
    if out.len() == n {
        return Ok(out);
    }
    Err(cycles(nodes, edges))
}

/// One concrete cycle per cyclic strongly connected component, starting at the component's
/// smallest id, components in id order.
pub fn cycles(nodes: &[Node], edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut g: DiGraph<usize, ()> = DiGraph::new();
    let idx: Vec<NodeIndex> = (0..nodes.len()).map(|i| g.add_node(i)).collect();
    for &(a, b) in edges {
        g.update_edge(idx[a], idx[b], ());
    }
    // Component of each node, self loops, and the successors inside a node's component: built
    // once (a cycle of 20,000 sessions made every per-component scan quadratic).
    // Kosaraju walks with explicit stacks; petgraph's Tarjan recurses once per node on a path.
    let sccs = petgraph::algo::kosaraju_scc(&g);
    let mut comp = vec![usize::MAX; nodes.len()];
    for (k, scc) in sccs.iter().enumerate() {
        for &ni in scc {
            comp[g[ni]] = k;
        }
    }
    let mut self_loop = vec![false; nodes.len()];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for &(a, b) in edges {
        if a == b {
            self_loop[a] = true;
        } else if comp[a] == comp[b] {
            succ[a].push(b);
        }
    }
    for s in &mut succ {
        s.sort_by(|&a, &b| cmp_ids(&nodes[a].id, &nodes[b].id));
        s.dedup();
    }
    let mut prev = vec![usize::MAX; nodes.len()];
    let mut found = Vec::new();
    for scc in &sccs {
        let members: Vec<usize> = scc.iter().map(|&ni| g[ni]).collect();
        let self_loop = members.len() == 1 && self_loop[members[0]];
        if members.len() < 2 && !self_loop {
            continue;
        }
        let start = *members
            .iter()
            .min_by(|&&a, &&b| cmp_ids(&nodes[a].id, &nodes[b].id))
            .expect("non-empty");
        if self_loop {
            found.push(vec![start]);
            continue;
        }
        // Shortest path start -> … -> start inside the component (BFS, neighbours in id order).
        let mut queue = VecDeque::from([start]);
        let mut closing = None;
        'bfs: while let Some(x) = queue.pop_front() {
            for &y in &succ[x] {
                if y == start {
                    closing = Some(x);
                    break 'bfs;
                }
                if prev[y] == usize::MAX {
                    prev[y] = x;
                    queue.push_back(y);
                }
            }
        }
        let mut path = Vec::new();
        let mut cur = closing.expect("a strongly connected component has a cycle");
        while cur != start {
            path.push(cur);
            cur = prev[cur];
        }
        path.push(start);
        path.reverse();
        for &m in &members {
            prev[m] = usize::MAX;
        }
        found.push(path);
    }
    found.sort_by(|a, b| cmp_ids(&nodes[a[0]].id, &nodes[b[0]].id));
    found
}

/// `A -> B -> C -> A`.
pub fn format_cycle(nodes: &[Node], cycle: &[usize]) -> String {
    let mut parts: Vec<&str> = cycle.iter().map(|&i| nodes[i].id.as_str()).collect();
    parts.push(&nodes[cycle[0]].id);
    parts.join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(ids: &[&str]) -> Vec<Node> {
        ids.iter()
            .map(|id| Node {
                id: id.to_string(),
                wave: None,
            })
            .collect()
    }

    #[test]
    fn natural_order() {
        let ns = nodes(&["BE-10", "BE-2", "BE-1"]);
        let o = order(&ns, &[]).unwrap();
        let ids: Vec<_> = o.iter().map(|&i| ns[i].id.as_str()).collect();
        assert_eq!(ids, ["BE-1", "BE-2", "BE-10"]);
    }

    #[test]
    fn waves_first() {
        let mut ns = nodes(&["A-1", "B-1"]);
        ns[0].wave = Some(2);
        ns[1].wave = Some(1);
        assert_eq!(order(&ns, &[]).unwrap(), [1, 0]);
    }

    #[test]
    fn cycle_is_reported_whole() {
        let ns = nodes(&["A-1", "B-1", "C-1", "D-1"]);
        let err = order(&ns, &[(0, 1), (1, 2), (2, 0), (3, 0)]).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(format_cycle(&ns, &err[0]), "A-1 -> B-1 -> C-1 -> A-1");
    }
}
