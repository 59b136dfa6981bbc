//! The pure planners the templates are built from: stage chains, cut points, reduction and
//! adder trees. Each property below is one a template relies on without checking it.

use blockrtl::emit::pipeline::{Cuts, GLOBAL_STALL_FROM, chain, delay_chain};
use blockrtl::emit::tree::{cut_levels, levels, reduce, register_levels, sum_tree};

#[test]
fn short_chains_ripple_and_deep_chains_stall_as_one() {
    // Below the threshold each stage loads when empty or when the next one moves on.
    let (stages, ready, valid) = chain(3, "valid_i", "ready_i");
    assert_eq!(ready, "en_s1_w");
    assert_eq!(valid, "valid_s3_q");
    let en: Vec<&str> = stages.iter().map(|s| s.en_expr.as_str()).collect();
    assert_eq!(
        en,
        [
            "~valid_s1_q | en_s2_w",
            "~valid_s2_q | en_s3_w",
            "~valid_s3_q | ready_i"
        ]
    );
    assert_eq!(stages[0].prev_valid, "valid_i");
    assert_eq!(stages[2].prev_valid, "valid_s2_q");
    // From the threshold on, every stage waits only on the last one and the sink.
    let (deep, _, _) = chain(GLOBAL_STALL_FROM, "valid_i", "ready_i");
    let last = format!("~valid_s{GLOBAL_STALL_FROM}_q | ready_i");
    assert!(deep.iter().all(|s| s.en_expr == last), "{deep:?}");
    // No stage: the source sees the sink directly.
    let (none, ready, valid) = chain(0, "valid_i", "ready_i");
    assert!(none.is_empty());
    assert_eq!((ready.as_str(), valid.as_str()), ("ready_i", "valid_i"));
}

#[test]
fn cuts_take_stages_in_order_and_delay_chains_follow_them() {
    let (stages, _, _) = chain(3, "valid_i", "ready_i");
    let mut cuts = Cuts::new(&stages);
    let taken = [cuts.take(true), cuts.take(false), cuts.take(true)];
    assert_eq!(taken[0].en, "en_s1_w");
    assert!(!taken[1].registered && taken[1].en.is_empty());
    assert_eq!(taken[2].en, "en_s2_w");
    assert_eq!(cuts.rest().collect::<Vec<_>>(), ["s3"]);
    let registered: Vec<_> = taken.into_iter().filter(|c| c.registered).collect();
    let (regs, end) = delay_chain(&registered, |i| format!("d{i}_q"), "x_w");
    assert_eq!(
        regs,
        [
            ("d0_q".to_string(), "en_s1_w".to_string(), "x_w".to_string()),
            (
                "d1_q".to_string(),
                "en_s2_w".to_string(),
                "d0_q".to_string()
            ),
        ]
    );
    assert_eq!(end, "d1_q");
    let (none, end) = delay_chain(&[], |i| format!("d{i}"), "x_w");
    assert!(none.is_empty());
    assert_eq!(end, "x_w");
}

#[test]
#[should_panic(expected = "a stage per registered cut")]
fn more_registered_cuts_than_stages_is_a_planner_bug() {
    let (stages, _, _) = chain(1, "valid_i", "ready_i");
    let mut cuts = Cuts::new(&stages);
    cuts.take(true);
    cuts.take(true);
}

#[test]
fn reduction_trees_are_balanced_and_in_dependency_order() {
    for n in 1..=40usize {
        let leaves: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
        let (nodes, root) = reduce(leaves.clone(), "m");
        // n leaves, n - 1 two-input operations.
        assert_eq!(nodes.len(), n - 1, "{n} leaves");
        assert_eq!(nodes.iter().map(|x| x.level).max().unwrap_or(0), levels(n));
        // Every operand is a leaf or a node defined before it; every leaf is used once.
        let mut defined: Vec<String> = leaves.clone();
        let mut used = std::collections::BTreeMap::new();
        for node in &nodes {
            for op in [&node.a, &node.b] {
                assert!(defined.contains(op), "{op} used before it is defined");
                *used.entry(op.clone()).or_insert(0) += 1;
            }
            defined.push(node.name.clone());
        }
        assert!(used.values().all(|&u| u == 1), "an operand used twice");
        let expect_root = if n == 1 {
            "x0".to_string()
        } else {
            nodes.last().unwrap().name.clone()
        };
        assert_eq!(root, expect_root);
    }
}

#[test]
fn adder_trees_grow_one_bit_a_level() {
    let leaves: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
    let (nodes, root, width) = sum_tree(leaves, 5, "s");
    assert_eq!(nodes.len(), 7);
    assert_eq!(width, 5 + 3, "log2(8) levels over 5-bit leaves");
    assert_eq!(root, "s_l3_n0");
    for n in &nodes {
        assert_eq!(n.width, 5 + n.level as u32);
        assert_eq!(n.operand_w + 1, n.width);
        assert_eq!(n.msb, n.width - 1);
    }
}

#[test]
fn cut_levels_spread_evenly_and_register_whole_levels() {
    assert_eq!(cut_levels(5, 0), Vec::<usize>::new());
    assert_eq!(cut_levels(5, 5), [1, 2, 3, 4, 5]);
    assert_eq!(cut_levels(5, 9), [1, 2, 3, 4, 5], "at most one cut a level");
    for levels in 1..=12 {
        for cuts in 0..levels {
            let at = cut_levels(levels, cuts);
            assert_eq!(at.len(), cuts);
            assert!(
                at.windows(2).all(|w| w[0] < w[1]),
                "{levels}/{cuts}: {at:?}"
            );
            assert!(at.iter().all(|&l| (1..=levels).contains(&l)));
        }
    }
    // One cut in a 4-level tree goes to the middle.
    assert_eq!(cut_levels(4, 1), [2]);
    let (stages, _, _) = chain(2, "v", "r");
    let mut c = Cuts::new(&stages);
    let cuts = [c.take(true), c.take(true)];
    let leaves: Vec<String> = (0..8).map(|i| format!("x{i}")).collect();
    let (mut nodes, _) = reduce(leaves, "m");
    register_levels(&mut nodes, &[1, 3], &cuts);
    for n in &nodes {
        let want = match n.level {
            1 => "en_s1_w",
            3 => "en_s2_w",
            _ => "",
        };
        assert_eq!(n.en, want, "{}", n.name);
    }
}
