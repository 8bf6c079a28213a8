//! A fixed-shape binary tree over a row of values (sum, product or max).
//!
//! Every aggregate of the engine that can change one leaf at a time is kept in
//! one of these: an update recomputes the O(log n) nodes above the leaf, and
//! because a node is always `combine(left, right)` of the same children, a tree
//! updated leaf by leaf holds bit for bit the values of a tree built from
//! scratch over the same leaves. That is what makes the incremental state equal
//! to a full recompute exactly, not merely within a tolerance.

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

/// A complete binary tree stored flat: node 1 is the root, leaves start at `capacity`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    op: Op,
    len: usize,
    capacity: usize,
    nodes: Vec<f64>,
}

impl Tree {
    /// A tree over `leaves`.
    pub(crate) fn new(op: Op, leaves: impl ExactSizeIterator<Item = f64>) -> Tree {
        let len = leaves.len();
        let capacity = len.max(1).next_power_of_two();
        let mut nodes = vec![op.identity(); 2 * capacity];
        for (slot, value) in nodes[capacity..].iter_mut().zip(leaves) {
            *slot = value;
        }
        for node in (1..capacity).rev() {
            nodes[node] = op.combine(nodes[2 * node], nodes[2 * node + 1]);
        }
        Tree {
            op,
            len,
            capacity,
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
        let mut node = self.capacity + index;
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
        self.nodes[self.capacity + index] = value;
    }

    /// Recomputes the nodes above the leaves in `dirty` (leaf indices), each node once.
    /// Empties `dirty`.
    pub(crate) fn refresh(&mut self, dirty: &mut Vec<usize>) {
        for leaf in dirty.iter_mut() {
            *leaf += self.capacity;
        }
        dirty.sort_unstable();
        dirty.dedup();
        while dirty.first().is_some_and(|node| *node > 1) {
            for node in dirty.iter_mut() {
                *node /= 2;
                let parent = *node;
                self.nodes[parent] = self
                    .op
                    .combine(self.nodes[2 * parent], self.nodes[2 * parent + 1]);
            }
            dirty.dedup();
        }
        dirty.clear();
    }

    /// The total the tree would have if leaf `index` held `value`, without changing it.
    pub(crate) fn total_with(&self, index: usize, value: f64) -> f64 {
        let mut node = self.capacity + index;
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
        let mut leaves: Vec<f64> = (0..13).map(|i| 0.1 * i as f64 + 0.3).collect();
        for op in [Op::Sum, Op::Product, Op::Max] {
            let mut tree = Tree::new(op, leaves.iter().copied());
            for (i, step) in [(3, 0.7), (12, 1e-3), (0, 5.5), (7, 0.0)] {
                leaves[i] = step;
                tree.set(i, step);
                let rebuilt = Tree::new(op, leaves.iter().copied());
                assert_eq!(tree.total().to_bits(), rebuilt.total().to_bits());
                assert_eq!(tree, rebuilt);
            }
            let with = tree.total_with(5, 2.5);
            let mut changed = tree.clone();
            changed.set(5, 2.5);
            assert_eq!(with.to_bits(), changed.total().to_bits());
            let mut lazy = tree.clone();
            let mut dirty = vec![1, 9, 2];
            for i in &dirty {
                lazy.set_lazily(*i, 4.25);
            }
            lazy.refresh(&mut dirty);
            let mut eager = tree.clone();
            for i in [1, 9, 2] {
                eager.set(i, 4.25);
            }
            assert_eq!(lazy, eager);
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
