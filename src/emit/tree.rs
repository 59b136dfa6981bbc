//! Balanced binary reduction trees, with one named node per operation.

/// One tree node: `name = op(a, b)`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Node {
    pub name: String,
    pub a: String,
    pub b: String,
    /// Tree level, 1 at the leaves' parents.
    pub level: usize,
    /// The enable of the register holding this node, or empty for a plain wire.
    pub en: String,
}

/// Pairwise reduction of `leaves`, level by level; an odd one out moves up a level unchanged.
/// Returns the nodes in dependency order and the name of the root.
pub fn reduce(leaves: Vec<String>, prefix: &str) -> (Vec<Node>, String) {
    let mut level = leaves;
    let mut nodes = Vec::new();
    let mut depth = 1;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for (j, pair) in level.chunks(2).enumerate() {
            match pair {
                [a, b] => {
                    let name = format!("{prefix}_l{depth}_n{j}");
                    nodes.push(Node {
                        name: name.clone(),
                        a: a.clone(),
                        b: b.clone(),
                        level: depth,
                        en: String::new(),
                    });
                    next.push(name);
                }
                [a] => next.push(a.clone()),
                _ => unreachable!(),
            }
        }
        level = next;
        depth += 1;
    }
    let root = level.pop().expect("a tree needs at least one leaf");
    (nodes, root)
}

/// One adder-tree node: `name = a + b`, `width` bits (one more than its operands).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SumNode {
    pub name: String,
    pub a: String,
    pub b: String,
    pub width: u32,
    pub msb: u32,
    /// Width of the operands, for zero- or sign-extension.
    pub operand_w: u32,
    pub operand_msb: u32,
    /// Tree level, 1 at the leaves' parents.
    pub level: usize,
    /// The enable of the register holding this node, or empty for a plain wire.
    pub en: String,
    /// One-bit wires the node adds besides its operands (the carry inputs of its adder).
    pub carries: Vec<String>,
}

/// A balanced adder tree over a power-of-two number of `leaf_w`-bit leaves; every level adds a
/// bit, so no sum can overflow. Returns the nodes, the root's name and its width.
pub fn sum_tree(leaves: Vec<String>, leaf_w: u32, prefix: &str) -> (Vec<SumNode>, String, u32) {
    assert!(
        leaves.len().is_power_of_two(),
        "adder trees take a power-of-two number of leaves"
    );
    let mut level = leaves;
    let mut width = leaf_w;
    let mut nodes = Vec::new();
    let mut depth = 1;
    while level.len() > 1 {
        let next: Vec<String> = level
            .chunks(2)
            .enumerate()
            .map(|(j, pair)| {
                let name = format!("{prefix}_l{depth}_n{j}");
                nodes.push(SumNode {
                    name: name.clone(),
                    a: pair[0].clone(),
                    b: pair[1].clone(),
                    width: width + 1,
                    msb: width,
                    operand_w: width,
                    operand_msb: width - 1,
                    level: depth,
                    en: String::new(),
                    carries: Vec::new(),
                });
                name
            })
            .collect();
        level = next;
        width += 1;
        depth += 1;
    }
    (nodes, level.pop().expect("one root"), width)
}

/// The operands of a node's `key` signal, `<child>_<key>_w`.
fn operands(a: &str, b: &str, key: &str) -> (String, String) {
    (format!("{a}_{key}_w"), format!("{b}_{key}_w"))
}

impl Node {
    /// The larger child's value.
    pub fn max(&self, key: &str) -> String {
        let (a, b) = operands(&self.a, &self.b, key);
        format!("({a} > {b}) ? {a} : {b}")
    }

    /// Either child's flag.
    pub fn any(&self, key: &str) -> String {
        let (a, b) = operands(&self.a, &self.b, key);
        format!("{a} | {b}")
    }
}

impl SumNode {
    /// The children's unsigned sum, one bit wider.
    pub fn add(&self, key: &str) -> String {
        let (a, b) = operands(&self.a, &self.b, key);
        format!("{{1'b0, {a}}} + {{1'b0, {b}}}")
    }

    /// The children's two's-complement sum, sign-extended one bit.
    pub fn add_signed(&self, key: &str) -> String {
        let (a, b) = operands(&self.a, &self.b, key);
        let m = self.operand_msb;
        let mut sum = format!("{{{a}[{m}], {a}}} + {{{b}[{m}], {b}}}");
        for c in &self.carries {
            sum.push_str(&format!(" + {{{}'d0, {c}}}", self.width - 1));
        }
        sum
    }

    /// Both operands' one-bit `key` wires as carries (see `carries`).
    pub fn carry_in(&mut self, key: &str) {
        let (a, b) = operands(&self.a, &self.b, key);
        self.carries = vec![a, b];
    }

    pub fn any(&self, key: &str) -> String {
        let (a, b) = operands(&self.a, &self.b, key);
        format!("{a} | {b}")
    }
}

/// Levels of a pairwise reduction tree over `leaves` leaves.
pub fn levels(leaves: usize) -> usize {
    let mut levels = 0;
    let mut n = leaves;
    while n > 1 {
        n = n.div_ceil(2);
        levels += 1;
    }
    levels
}

/// The levels after which `cuts` registers go, spread evenly over a tree of `levels` levels;
/// with as many cuts as levels, every level (the root included) is registered.
pub fn cut_levels(levels: usize, cuts: usize) -> Vec<usize> {
    let cuts = cuts.min(levels);
    if cuts == levels {
        return (1..=levels).collect();
    }
    (1..=cuts)
        .map(|i| (2 * i * levels + cuts + 1) / (2 * (cuts + 1)))
        .collect()
}

/// A tree node whose value can be held in a register.
pub trait LevelNode {
    fn level(&self) -> usize;
    fn set_en(&mut self, en: String);
}

impl LevelNode for Node {
    fn level(&self) -> usize {
        self.level
    }
    fn set_en(&mut self, en: String) {
        self.en = en;
    }
}

impl LevelNode for SumNode {
    fn level(&self) -> usize {
        self.level
    }
    fn set_en(&mut self, en: String) {
        self.en = en;
    }
}

/// Register every node of the levels in `cut_levels` with the enable of its cut.
pub fn register_levels<N: LevelNode>(
    nodes: &mut [N],
    cut_levels: &[usize],
    cuts: &[super::pipeline::Cut],
) {
    for node in nodes {
        if let Some(i) = cut_levels.iter().position(|&l| l == node.level()) {
            node.set_en(cuts[i].en.clone());
        }
    }
}
