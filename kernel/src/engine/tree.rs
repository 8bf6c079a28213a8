//! A fixed-shape binary tree over a row of values (sum, product or max).
//!
//! Every aggregate of the engine that can change one leaf at a time is kept in
//! one of these: an update recomputes the O(log n) nodes above the leaf, and
//! because a node is always `combine(left, right)` of the same children, a tree
//! updated leaf by leaf holds bit for bit the values of a tree built from
//! scratch over the same leaves. That is what makes the incremental state equal
//! to a full recompute exactly, not merely within a tolerance.

use std::collections::BinaryHeap;

/// How a tree combines its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `a + b`, identity 0.
    Sum,
    /// `a * b`, identity 1.
    Product,
    /// `max(a, b)`, identity minus infinity.
    Max,
}

impl Op {
    fn identity(self) -> f64 {
        match self {
            Op::Sum => 0.0,
            Op::Product => 1.0,
            Op::Max => f64::NEG_INFINITY,
        }
    }

    fn combine(self, left: f64, right: f64) -> f64 {
        match self {
            Op::Sum => left + right,
            Op::Product => left * right,
            Op::Max => {
                if right > left {
                    right
                } else {
                    left
                }
            }
        }
    }
}

/// A binary tree stored flat, without padding: with `base = max(len, 1)`, leaf `i`
/// is node `base + i`, node `k < base` combines nodes `2k` and `2k + 1`, node 1 is the root.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    op: Op,
    len: usize,
    base: usize,
    nodes: Vec<f64>,
}

impl Tree {
    /// A tree over `leaves`.
    pub(crate) fn new(op: Op, leaves: impl ExactSizeIterator<Item = f64>) -> Tree {
        let len = leaves.len();
        let base = len.max(1);
        let mut nodes = Vec::with_capacity(2 * base);
        nodes.resize(base, op.identity());
        nodes.extend(leaves);
        nodes.resize(2 * base, op.identity());
        match op {
            Op::Sum => build(&mut nodes, base, |a, b| a + b),
            Op::Product => build(&mut nodes, base, |a, b| a * b),
            Op::Max => build(&mut nodes, base, |a, b| if b > a { b } else { a }),
        }
        Tree {
            op,
            len,
            base,
            nodes,
        }
    }

    /// The combination of every leaf (the identity when there is none).
    pub(crate) fn total(&self) -> f64 {
        self.nodes[1]
    }

    /// Sets leaf `index` and recomputes the nodes above it.
    pub(crate) fn set(&mut self, index: usize, value: f64) {
        debug_assert!(index < self.len);
        let mut node = self.base + index;
        self.nodes[node] = value;
        while node > 1 {
            node /= 2;
            self.nodes[node] = self
                .op
                .combine(self.nodes[2 * node], self.nodes[2 * node + 1]);
        }
    }

    /// Sets leaf `index` without recomputing above it: call [`Tree::refresh`] after a batch.
    pub(crate) fn set_lazily(&mut self, index: usize, value: f64) {
        debug_assert!(index < self.len);
        self.nodes[self.base + index] = value;
    }

    /// Recomputes the nodes above the leaves in `dirty` (leaf indices), each node once,
    /// children before parents. Empties `dirty`.
    pub(crate) fn refresh(&mut self, dirty: &mut Vec<usize>) {
        let depth = usize::BITS - self.base.leading_zeros();
        if dirty.len() * depth as usize >= self.base {
            // Most of the tree is dirty: rebuilding every inner node is cheaper.
            dirty.clear();
            match self.op {
                Op::Sum => build(&mut self.nodes, self.base, |a, b| a + b),
                Op::Product => build(&mut self.nodes, self.base, |a, b| a * b),
                Op::Max => build(&mut self.nodes, self.base, |a, b| if b > a { b } else { a }),
            }
            return;
        }
        if dirty.len() <= 4 {
            for leaf in dirty.drain(..) {
                let value = self.nodes[self.base + leaf];
                self.set(leaf, value);
            }
            return;
        }
        let mut pending: BinaryHeap<usize> = dirty
            .drain(..)
            .map(|leaf| (self.base + leaf) / 2)
            .filter(|node| *node >= 1)
            .collect();
        let mut last = 0;
        while let Some(node) = pending.pop() {
            if node == last {
                continue;
            }
            last = node;
            self.nodes[node] = self
                .op
                .combine(self.nodes[2 * node], self.nodes[2 * node + 1]);
            if node > 1 {
                pending.push(node / 2);
            }
        }
    }

    /// The total the tree would have if leaf `index` held `value`, without changing it.
    pub(crate) fn total_with(&self, index: usize, value: f64) -> f64 {
        let mut node = self.base + index;
        let mut acc = value;
        while node > 1 {
            let sibling = self.nodes[node ^ 1];
            acc = if node & 1 == 0 {
                self.op.combine(acc, sibling)
            } else {
                self.op.combine(sibling, acc)
            };
            node /= 2;
        }
        acc
    }
}

/// Fills the inner nodes, last first, so that children come before their parent.
fn build(nodes: &mut [f64], base: usize, combine: impl Fn(f64, f64) -> f64) {
    for node in (1..base).rev() {
        nodes[node] = combine(nodes[2 * node], nodes[2 * node + 1]);
    }
}

impl Default for Tree {
    fn default() -> Tree {
        Tree::new(Op::Sum, std::iter::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updated_tree_equals_rebuilt_tree_bit_for_bit() {
        for (op, n) in [Op::Sum, Op::Product, Op::Max]
            .into_iter()
            .flat_map(|op| [3, 13, 16].map(|n| (op, n)))
        {
            let mut leaves: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 + 0.3).collect();
            let mut tree = Tree::new(op, leaves.iter().copied());
            for (i, step) in [(2, 0.7), (n - 1, 1e-3), (0, 5.5), (1, 0.0)] {
                leaves[i] = step;
                tree.set(i, step);
                let rebuilt = Tree::new(op, leaves.iter().copied());
                assert_eq!(tree.total().to_bits(), rebuilt.total().to_bits());
                assert_eq!(tree, rebuilt);
            }
            let with = tree.total_with(n / 2, 2.5);
            let mut changed = tree.clone();
            changed.set(n / 2, 2.5);
            assert_eq!(with.to_bits(), changed.total().to_bits());
            let mut lazy = tree.clone();
            let mut dirty = vec![1, n - 1, 2];
            for i in &dirty {
                lazy.set_lazily(*i, 4.25);
            }
            lazy.refresh(&mut dirty);
            let mut eager = tree.clone();
            for i in [1, n - 1, 2] {
                eager.set(i, 4.25);
            }
            assert_eq!(lazy, eager);
        }
    }

    #[test]
    fn every_refresh_path_equals_setting_leaf_by_leaf() {
        for (n, dirty) in [(1000, 3), (1000, 6), (1000, 200), (7, 7)] {
            for op in [Op::Sum, Op::Product, Op::Max] {
                let leaves = (0..n).map(|i| 1.0 + (i % 17) as f64 * 0.01);
                let mut lazy = Tree::new(op, leaves);
                let mut eager = lazy.clone();
                let mut touched: Vec<usize> = (0..dirty).map(|k| (k * 37) % n).collect();
                for leaf in &touched {
                    lazy.set_lazily(*leaf, 0.5);
                    eager.set(*leaf, 0.5);
                }
                lazy.refresh(&mut touched);
                assert!(touched.is_empty());
                assert_eq!(lazy, eager, "n {n}, dirty {dirty}, {op:?}");
            }
        }
    }

    #[test]
    fn empty_and_single_trees_hold_the_identity_or_the_leaf() {
        assert_eq!(Tree::new(Op::Sum, std::iter::empty()).total(), 0.0);
        assert_eq!(Tree::new(Op::Product, std::iter::empty()).total(), 1.0);
        assert_eq!(
            Tree::new(Op::Max, std::iter::empty()).total(),
            f64::NEG_INFINITY
        );
        let mut single = Tree::new(Op::Sum, [2.0].into_iter());
        assert_eq!(single.total(), 2.0);
        single.set(0, 3.0);
        assert_eq!(single.total(), 3.0);
        assert_eq!(single.total_with(0, 7.0), 7.0);
    }
}
