//! Balanced binary reduction trees, with one named node per operation.

/// One tree node: `name = op(a, b)`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Node {
    pub name: String,
    pub a: String,
    pub b: String,
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
