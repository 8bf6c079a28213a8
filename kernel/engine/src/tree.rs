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

/// Fills the inner nodes `1..base`, children before parents: a run `lo..hi` of nodes
/// whose children `2lo..2hi` are all done, from the leaves up (each node is still
/// `combine(2k, 2k + 1)`, so the order changes no bit).
fn build(nodes: &mut [f64], base: usize, combine: impl Fn(f64, f64) -> f64) {
    let mut hi = base;
    while hi > 1 {
        let lo = hi.div_ceil(2);
        let (parents, children) = nodes.split_at_mut(2 * lo);
        for (parent, pair) in parents[lo..hi]
            .iter_mut()
            .zip(children[..2 * (hi - lo)].chunks_exact(2))
        {
            *parent = combine(pair[0], pair[1]);
        }
        hi = lo;
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
