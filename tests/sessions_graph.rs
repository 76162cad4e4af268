//! Property tests for the session DAG: the order respects every edge and is deterministic (also
//! independent of input order); any back edge yields a cycle error naming a real cycle.

use fsi::session::graph::{Node, cycles, format_cycle, order};
use proptest::prelude::*;

/// A random DAG: node i may require any j < i. Ids are shuffled relative to the topology so that
/// id order and dependency order disagree.
fn dag() -> impl Strategy<Value = (Vec<Node>, Vec<(usize, usize)>)> {
    (1usize..40).prop_flat_map(|n| {
        let edges = proptest::collection::vec((0..n, 0..n), 0..n * 2).prop_map(|raw| {
            let mut e: Vec<(usize, usize)> = raw
                .into_iter()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| if a > b { (a, b) } else { (b, a) })
                .collect();
            e.sort_unstable();
            e.dedup();
            e
        });
        let ids = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
        let waves = proptest::collection::vec(proptest::option::of(0i64..3), n);
        (ids, waves, edges).prop_map(|(ids, waves, edges)| {
            let nodes = ids
                .iter()
                .zip(waves)
                .map(|(k, wave)| Node {
                    id: format!("S-{k:02}"),
                    wave,
                })
                .collect();
            (nodes, edges)
        })
    })
}

fn position(o: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; o.len()];
    for (i, &n) in o.iter().enumerate() {
        pos[n] = i;
    }
    pos
}

proptest! {
    #[test]
    fn order_respects_every_edge_and_is_deterministic((nodes, edges) in dag()) {
        let o = order(&nodes, &edges).expect("a DAG orders");
        prop_assert_eq!(o.len(), nodes.len());
        let pos = position(&o);
        for &(a, b) in &edges {
            prop_assert!(pos[b] < pos[a], "{} requires {} but runs first", nodes[a].id, nodes[b].id);
        }
        prop_assert_eq!(&order(&nodes, &edges).unwrap(), &o);

        // Reversing the input order yields the same sequence of ids.
        let n = nodes.len();
        let rev_nodes: Vec<Node> = nodes.iter().rev().cloned().collect();
        let rev_edges: Vec<(usize, usize)> =
            edges.iter().rev().map(|&(a, b)| (n - 1 - a, n - 1 - b)).collect();
        let o2 = order(&rev_nodes, &rev_edges).unwrap();
        let ids1: Vec<&str> = o.iter().map(|&i| nodes[i].id.as_str()).collect();
        let ids2: Vec<&str> = o2.iter().map(|&i| rev_nodes[i].id.as_str()).collect();
        prop_assert_eq!(ids1, ids2);
    }

    #[test]
    fn a_back_edge_yields_a_real_cycle((nodes, edges) in dag(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!edges.is_empty());
        // Take an edge a -> b (a requires b, b < a) and add the back edge b -> a.
        let (a, b) = edges[pick.index(edges.len())];
        let mut with_back = edges.clone();
        with_back.push((b, a));
        let err = order(&nodes, &with_back).expect_err("a back edge makes a cycle");
        prop_assert!(!err.is_empty());
        for cycle in &err {
            prop_assert!(!cycle.is_empty());
            // Every consecutive pair, including last -> first, is a real edge.
            for w in 0..cycle.len() {
                let from = cycle[w];
                let to = cycle[(w + 1) % cycle.len()];
                prop_assert!(with_back.contains(&(from, to)),
                    "{} is not a cycle", format_cycle(&nodes, cycle));
            }
            // No node repeats inside the loop.
            let mut seen = cycle.clone();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), cycle.len());
        }
        prop_assert_eq!(cycles(&nodes, &with_back), err);
    }
}
