//! Formatbooks: sets of FP4 "dialects", each 8 magnitudes on a half-unit grid, kept as data.

use serde::Deserialize;
use std::path::Path;

/// Values per dialect (3-bit index).
pub const DIALECT_VALUES: usize = 8;
/// Largest half-unit value: the MAC multiplies 4-bit unsigned integers.
pub const MAX_HALF_UNITS: u8 = 15;
/// A 4-bit dialect id addresses at most 16 dialects.
pub const MAX_DIALECTS: usize = 16;

/// The largest formatbook file read (16 dialects take well under 2 KiB).
const MAX_BOOK_BYTES: u64 = 1 << 20;

/// The formatbook shipped with the tool (numerics.md section 5).
pub const DIALECTFP4_TOML: &str = include_str!("../../formatbooks/dialectfp4.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatbook {
    pub name: String,
    /// `dialects[id]` = the 8 magnitudes in half-units, ascending, starting at 0.
    pub dialects: Vec<[u8; DIALECT_VALUES]>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatbookError {
    #[error("formatbook {source_name}: {message}")]
    Parse {
        source_name: String,
        message: String,
    },
    #[error("formatbook {book}: has no dialects")]
    Empty { book: String },
    #[error("formatbook {book}: has {count} dialects; a 4-bit dialect id allows at most 16")]
    TooMany { book: String, count: usize },
    #[error("formatbook {book}: dialect {id} has {count} values; every dialect needs exactly 8")]
    WrongLength {
        book: String,
        id: usize,
        count: usize,
    },
    #[error(
        "formatbook {book}: dialect {id} value {index} is {value}; half-unit values must be integers 0..=15"
    )]
    OutOfRange {
        book: String,
        id: usize,
        index: usize,
        value: i64,
    },
    #[error("formatbook {book}: dialect {id} must start at 0 (value 0 is {value})")]
    NoZero { book: String, id: usize, value: u8 },
    #[error(
        "formatbook {book}: dialect {id} values must be strictly ascending, but value {index} ({value}) is not above value {prev_index} ({prev})"
    )]
    NotAscending {
        book: String,
        id: usize,
        index: usize,
        value: u8,
        prev_index: usize,
        prev: u8,
    },
    #[error(
        "formatbook {book}: dialects {first} and {second} are the same; every dialect must differ (a duplicate only wastes an id)"
    )]
    Duplicate {
        book: String,
        first: usize,
        second: usize,
    },
    #[error("formatbook {book}: the two-stage selector needs {reason}")]
    NoPairStructure { book: String, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookFile {
    name: String,
    /// Documents the unit of the values; only half-units are defined.
    unit: String,
    dialect: Vec<DialectEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DialectEntry {
    values: Vec<i64>,
}

/// A pair of dialects (2p, 2p+1) as the two-stage selector sees it: a shared maximum (stage 1)
/// and, for each member, the one value the other lacks and the magnitude interval that rounds to
/// it on the pair's combined grid (stage 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialectPair {
    pub ids: [usize; 2],
    pub max: u8,
    pub unique: [u8; 2],
    /// Beneficial range of each member, in doubled half-units `[lo2, hi2)`: a magnitude h
    /// (half-units) counts for member j when `lo2 <= 2h < hi2`. Bounds are the midpoints to the
    /// neighbours on the combined grid, so the ranges agree with ties-to-larger rounding.
    pub range2: [(u32, u32); 2],
}

impl Formatbook {
    pub fn dialectfp4() -> Formatbook {
        Formatbook::builtin().clone()
    }

    /// The built-in DialectFP4 book, parsed once.
    pub fn builtin() -> &'static Formatbook {
        static BOOK: std::sync::OnceLock<Formatbook> = std::sync::OnceLock::new();
        BOOK.get_or_init(|| {
            Formatbook::parse(DIALECTFP4_TOML, "dialectfp4 (built in)")
                .expect("the built-in formatbook is valid")
        })
    }

    pub fn load(path: &Path) -> Result<Formatbook, FormatbookError> {
        let name = path.display().to_string();
        let fail = |message: String| FormatbookError::Parse {
            source_name: name.clone(),
            message,
        };
        let text = crate::user_file::read_text(path, MAX_BOOK_BYTES).map_err(fail)?;
        Formatbook::parse(&text, &name)
    }

    pub fn parse(text: &str, source_name: &str) -> Result<Formatbook, FormatbookError> {
        let file: BookFile = toml::from_str(text).map_err(|e| FormatbookError::Parse {
            source_name: source_name.to_string(),
            message: e.to_string().lines().next().unwrap_or("").to_string(),
        })?;
        if file.unit != "half" {
            return Err(FormatbookError::Parse {
                source_name: source_name.to_string(),
                message: format!(
                    "unit = \"{}\": only \"half\" (half-units) is defined",
                    file.unit
                ),
            });
        }
        let book = file.name;
        if file.dialect.is_empty() {
            return Err(FormatbookError::Empty { book });
        }
        if file.dialect.len() > MAX_DIALECTS {
            return Err(FormatbookError::TooMany {
                book,
                count: file.dialect.len(),
            });
        }
        let mut dialects = Vec::with_capacity(file.dialect.len());
        for (id, entry) in file.dialect.iter().enumerate() {
            let d = check_dialect(&book, id, &entry.values)?;
            if let Some(first) = dialects.iter().position(|e| *e == d) {
                return Err(FormatbookError::Duplicate {
                    book,
                    first,
                    second: id,
                });
            }
            dialects.push(d);
        }
        Ok(Formatbook {
            name: book,
            dialects,
        })
    }

    pub fn len(&self) -> usize {
        self.dialects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dialects.is_empty()
    }

    /// Bits needed for a dialect id of this book (at least 1).
    pub fn id_bits(&self) -> u32 {
        (usize::BITS - (self.len().max(2) - 1).leading_zeros()).max(1)
    }

    /// The pair structure the two-stage selector needs, or why this book lacks it: an even
    /// number of dialects, each pair (2p, 2p+1) sharing its maximum, differing in exactly one
    /// value each, and pairs having distinct maxima.
    pub fn pairs(&self) -> Result<Vec<DialectPair>, FormatbookError> {
        let fail = |reason: String| FormatbookError::NoPairStructure {
            book: self.name.clone(),
            reason,
        };
        if !self.len().is_multiple_of(2) {
            return Err(fail(format!(
                "an even number of dialects in pairs (2p, 2p+1), but this book has {}",
                self.len()
            )));
        }
        let mut pairs: Vec<DialectPair> = Vec::new();
        for p in 0..self.len() / 2 {
            let (a, b) = (&self.dialects[2 * p], &self.dialects[2 * p + 1]);
            let max = a[DIALECT_VALUES - 1];
            if b[DIALECT_VALUES - 1] != max {
                return Err(fail(format!(
                    "dialects {} and {} to share their maximum, but they end in {} and {}",
                    2 * p,
                    2 * p + 1,
                    max,
                    b[DIALECT_VALUES - 1]
                )));
            }
            let only_a: Vec<u8> = a.iter().copied().filter(|v| !b.contains(v)).collect();
            let only_b: Vec<u8> = b.iter().copied().filter(|v| !a.contains(v)).collect();
            if only_a.len() != 1 || only_b.len() != 1 {
                return Err(fail(format!(
                    "dialects {} and {} to differ in exactly one value each, but they differ in {:?} and {:?}",
                    2 * p,
                    2 * p + 1,
                    only_a,
                    only_b
                )));
            }
            if let Some(other) = pairs.iter().find(|q| q.max == max) {
                return Err(fail(format!(
                    "a distinct maximum per pair, but pairs {} and {} both end in {}",
                    other.ids[0] / 2,
                    p,
                    max
                )));
            }
            let mut grid: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
            grid.sort_unstable();
            grid.dedup();
            let unique = [only_a[0], only_b[0]];
            let range2 = unique.map(|u| beneficial_range2(&grid, u));
            pairs.push(DialectPair {
                ids: [2 * p, 2 * p + 1],
                max,
                unique,
                range2,
            });
        }
        Ok(pairs)
    }
}

/// `[lo2, hi2)` in doubled half-units: from the midpoint with u's lower neighbour on the grid to
/// the midpoint with its upper neighbour. u is never the grid's maximum (pairs share it).
fn beneficial_range2(grid: &[u8], u: u8) -> (u32, u32) {
    let i = grid.iter().position(|&g| g == u).expect("u is on the grid");
    let lo = u32::from(grid[i - 1]) + u32::from(u);
    let hi = u32::from(u) + u32::from(grid[i + 1]);
    (lo, hi)
}

fn check_dialect(book: &str, id: usize, values: &[i64]) -> Result<[u8; 8], FormatbookError> {
    if values.len() != DIALECT_VALUES {
        return Err(FormatbookError::WrongLength {
            book: book.to_string(),
            id,
            count: values.len(),
        });
    }
    let mut out = [0u8; DIALECT_VALUES];
    for (index, &value) in values.iter().enumerate() {
        if !(0..=i64::from(MAX_HALF_UNITS)).contains(&value) {
            return Err(FormatbookError::OutOfRange {
                book: book.to_string(),
                id,
                index,
                value,
            });
        }
        out[index] = value as u8;
    }
    if out[0] != 0 {
        return Err(FormatbookError::NoZero {
            book: book.to_string(),
            id,
            value: out[0],
        });
    }
    for index in 1..DIALECT_VALUES {
        if out[index] <= out[index - 1] {
            return Err(FormatbookError::NotAscending {
                book: book.to_string(),
                id,
                index,
                value: out[index],
                prev_index: index - 1,
                prev: out[index - 1],
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_book_matches_numerics_md() {
        let book = Formatbook::dialectfp4();
        assert_eq!(book.len(), 16);
        // Dialect 7 is plain FP4 E2M1 (0, 0.5, 1, 1.5, 2, 3, 4, 6).
        assert_eq!(book.dialects[7], [0, 1, 2, 3, 4, 6, 8, 12]);
        // Dialect 15 replaces 3 and 3.5 by 2.5 and 3 below its max of 4.
        assert_eq!(book.dialects[15], [0, 1, 2, 3, 4, 5, 6, 8]);
        // Pair p has maximum 15 - p.
        for (p, pair) in book.pairs().unwrap().iter().enumerate() {
            assert_eq!(pair.max as usize, 15 - p);
        }
    }

    /// The table in docs/numerics.md section 5 and the shipped book say the same thing.
    #[test]
    fn the_numerics_document_states_the_shipped_book() {
        let doc = include_str!("../../docs/numerics.md");
        let book = Formatbook::dialectfp4();
        let mut seen = [false; 16];
        for line in doc.lines().filter(|l| l.trim_start().starts_with("| ")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // Rows hold two dialects: | id | idx 6 | idx 7 | | id | idx 6 | idx 7 |
            for half in [&cells[1..4], &cells[5..8]] {
                let Ok(id) = half[0].parse::<usize>() else {
                    continue;
                };
                let d = book.dialects[id];
                if id == 15 {
                    assert_eq!(half[1], "indices 5..7 = 5, 6, 8", "dialect 15");
                    assert_eq!(d, [0, 1, 2, 3, 4, 5, 6, 8]);
                } else {
                    let num = |c: &str| c.split_whitespace().next().unwrap().parse::<u8>().unwrap();
                    assert_eq!([num(half[1]), num(half[2])], [d[6], d[7]], "dialect {id}");
                    assert_eq!(d[..6], [0, 1, 2, 3, 4, 6], "dialect {id}");
                }
                seen[id] = true;
            }
        }
        assert!(
            seen.iter().all(|&s| s),
            "the document lists every dialect: {seen:?}"
        );
    }

    #[test]
    fn pair_ranges_are_midpoints_on_the_combined_grid() {
        let pairs = Formatbook::dialectfp4().pairs().unwrap();
        // Pair 0 = {..6, 11, 15} and {..6, 9, 15}: 11 owns [10, 13), 9 owns [7.5, 10).
        assert_eq!(pairs[0].unique, [11, 9]);
        assert_eq!(pairs[0].range2, [(20, 26), (15, 20)]);
        // Pair 7 = {..4, 6, 7, 8} and {..4, 5, 6, 8}: 7 owns [6.5, 7.5), 5 owns [4.5, 5.5).
        assert_eq!(pairs[7].unique, [7, 5]);
        assert_eq!(pairs[7].range2, [(13, 15), (9, 11)]);
    }

    fn book_with(values: &str) -> Result<Formatbook, FormatbookError> {
        Formatbook::parse(
            &format!("name = \"t\"\nunit = \"half\"\n[[dialect]]\nvalues = {values}\n"),
            "t",
        )
    }

    #[test]
    fn invalid_books_name_the_dialect_value_and_reason() {
        let e = book_with("[0, 1, 2, 3, 4, 6, 8, 16]").unwrap_err();
        assert!(e.to_string().contains("dialect 0 value 7 is 16"), "{e}");
        let e = book_with("[0, 1, 2, 2, 4, 6, 8, 12]").unwrap_err();
        assert!(
            e.to_string()
                .contains("value 3 (2) is not above value 2 (2)"),
            "{e}"
        );
        let e = book_with("[1, 2, 3, 4, 5, 6, 8, 12]").unwrap_err();
        assert!(e.to_string().contains("must start at 0"), "{e}");
        let e = book_with("[0, 1, 2, 3]").unwrap_err();
        assert!(e.to_string().contains("has 4 values"), "{e}");
        let e = book_with("[0, 1, -2, 3, 4, 5, 6, 7]").unwrap_err();
        assert!(e.to_string().contains("is -2"), "{e}");
    }

    #[test]
    fn a_single_dialect_book_has_no_pairs_but_is_valid() {
        let book = book_with("[0, 1, 2, 3, 4, 6, 8, 12]").unwrap();
        assert_eq!(book.id_bits(), 1);
        let e = book.pairs().unwrap_err();
        assert!(e.to_string().contains("even number of dialects"), "{e}");
    }
}
