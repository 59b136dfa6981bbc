//! Bundles: named fields packed into one vector, most significant first. A unit declares a
//! bundle once; the concatenation that builds it and every slice that reads it back are
//! rendered from that one list, so reordering or widening a field cannot leave a reader behind.

/// One field's place in its bundle.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    width: u32,
    lo: u32,
}

#[derive(Debug, Clone)]
pub struct Bundle {
    fields: Vec<Field>,
}

/// Where one field of a concatenation comes from.
pub enum Part<'a> {
    /// Any expression as wide as the field.
    Expr(String),
    /// A field of another bundle held in the vector `wire`. Consecutive parts that read
    /// adjacent bits of the same vector render as one slice.
    Of {
        bundle: &'a Bundle,
        wire: &'a str,
        field: &'static str,
    },
}

impl Bundle {
    /// `fields` in order, most significant first; every width at least one bit.
    pub fn new(fields: &[(&'static str, u32)]) -> Bundle {
        let mut lo: u32 = fields.iter().map(|f| f.1).sum();
        let fields = fields
            .iter()
            .map(|&(name, width)| {
                assert!(width > 0, "bundle field {name} has no bits");
                lo -= width;
                Field { name, width, lo }
            })
            .collect();
        Bundle { fields }
    }

    pub fn width(&self) -> u32 {
        self.fields.iter().map(|f| f.width).sum()
    }

    pub fn msb(&self) -> u32 {
        self.width() - 1
    }

    fn field(&self, name: &str) -> Field {
        *self
            .fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name} in bundle {self:?}"))
    }

    pub fn hi(&self, name: &str) -> u32 {
        let f = self.field(name);
        f.lo + f.width - 1
    }

    pub fn lo(&self, name: &str) -> u32 {
        self.field(name).lo
    }

    /// The field's bit range as a Verilog select: `[hi:lo]`, or `[bit]` for one bit.
    pub fn slice(&self, name: &str) -> String {
        select(self.hi(name), self.lo(name))
    }

    /// The fields from `first` down to `last` (inclusive, adjacent by construction) as one select.
    pub fn span(&self, first: &str, last: &str) -> String {
        let (hi, lo) = (self.hi(first), self.lo(last));
        assert!(hi >= lo, "span {first}..{last} runs upwards");
        select(hi, lo)
    }

    /// `{a<suffix>, b<suffix>, ...}`: the bundle built from wires named after its fields.
    pub fn wires(&self, suffix: &str) -> String {
        let names: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{}{suffix}", f.name))
            .collect();
        format!("{{{}}}", names.join(", "))
    }

    /// The concatenation that builds this bundle, each field from `part(name)`.
    pub fn pack<'a>(&self, part: impl Fn(&'static str) -> Part<'a>) -> String {
        enum Item<'a> {
            Text(String),
            Slice(&'a str, u32, u32),
        }
        let mut items: Vec<Item<'a>> = Vec::new();
        for f in &self.fields {
            match part(f.name) {
                Part::Expr(e) => items.push(Item::Text(e)),
                Part::Of {
                    bundle,
                    wire,
                    field,
                } => {
                    let (hi, lo) = (bundle.hi(field), bundle.lo(field));
                    assert_eq!(hi - lo + 1, f.width, "{field} does not fit {}", f.name);
                    match items.last_mut() {
                        Some(Item::Slice(w, _, prev_lo)) if *w == wire && *prev_lo == hi + 1 => {
                            *prev_lo = lo
                        }
                        _ => items.push(Item::Slice(wire, hi, lo)),
                    }
                }
            }
        }
        let texts: Vec<String> = items
            .into_iter()
            .map(|i| match i {
                Item::Text(t) => t,
                Item::Slice(wire, hi, lo) => format!("{wire}{}", select(hi, lo)),
            })
            .collect();
        format!("{{{}}}", texts.join(", "))
    }
}

fn select(hi: u32, lo: u32) -> String {
    if hi == lo {
        format!("[{hi}]")
    } else {
        format!("[{hi}:{lo}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane() -> Bundle {
        Bundle::new(&[
            ("sign", 1),
            ("special", 1),
            ("flb", 5),
            ("sig", 3),
            ("sticky", 1),
        ])
    }

    #[test]
    fn fields_are_placed_from_the_top_down() {
        let b = lane();
        assert_eq!(b.width(), 11);
        assert_eq!(b.slice("sign"), "[10]");
        assert_eq!(b.slice("flb"), "[8:4]");
        assert_eq!(b.slice("sticky"), "[0]");
        assert_eq!(b.span("flb", "sticky"), "[8:0]");
        assert_eq!(b.wires("_w"), "{sign_w, special_w, flb_w, sig_w, sticky_w}");
    }

    #[test]
    fn a_repack_merges_adjacent_bits_of_one_vector() {
        let from = lane();
        let keep = Bundle::new(&[("sign", 1), ("flb", 5), ("sig", 3), ("sticky", 1)]);
        let of = |field| Part::Of {
            bundle: &from,
            wire: "tree_w",
            field,
        };
        // sign and flb are not adjacent in `from` (special sits between); the rest are.
        assert_eq!(keep.pack(of), "{tree_w[10], tree_w[8:0]}");
        let mixed = keep.pack(|f| match f {
            "sig" => Part::Expr("s_w".into()),
            _ => of(f),
        });
        assert_eq!(mixed, "{tree_w[10], tree_w[8:4], s_w, tree_w[0]}");
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn a_part_of_the_wrong_width_is_refused() {
        let from = lane();
        let b = Bundle::new(&[("flb", 4)]);
        b.pack(|field| Part::Of {
            bundle: &from,
            wire: "x_w",
            field,
        });
    }
}
