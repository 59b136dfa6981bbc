//! A simple dual-port memory with a registered address and read data (block RAM on FPGAs), optionally with
//! initial contents: the gemm tile's weight, activation, partial-sum and result memories.

use crate::emit::bits_for;
use crate::emit::design::GenFile;
use crate::floor::finish;
use askama::Template;

#[derive(Template)]
#[template(path = "rtl/ram.v", escape = "none")]
struct RamTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    about: &'a str,
    width: u32,
    depth: usize,
    addr_msb: u32,
    init: &'a [String],
}

/// Address bits of a memory of `depth` words.
pub fn addr_bits(depth: usize) -> u32 {
    bits_for(depth as u64 - 1)
}

/// The memory module `name`; `init` is empty or holds every word as hex digits.
pub fn ram_file(
    banner: &str,
    name: &str,
    about: &str,
    width: u32,
    depth: usize,
    init: &[String],
) -> GenFile {
    assert!(init.is_empty() || init.len() == depth, "all words or none");
    GenFile {
        memory: Some(MemorySpec {
            banner: banner.to_string(),
            about: about.to_string(),
            width,
            depth,
            init: init.to_vec(),
        }),
        name: format!("{name}.v"),
        contents: finish(
            RamTemplate {
                banner,
                name,
                about,
                width,
                depth,
                addr_msb: addr_bits(depth) - 1,
                init,
            }
            .render(),
        ),
    }
}

/// What a memory module built by `ram_file` holds, so a flow can build the same memory from
/// a device's block RAMs (`ecp5_ram_source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemorySpec {
    pub banner: String,
    pub about: String,
    pub width: u32,
    pub depth: usize,
    /// Every word as hex digits, or none (the memory starts unknown).
    pub init: Vec<String>,
}

/// How `generate` writes the floor's memories over `LUT_RAM_DEPTH` words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryStyle {
    /// Plain Verilog arrays that Yosys and vendor tools infer as block RAM.
    #[default]
    Inferred,
    /// ECP5 DP16KD block RAMs with their output register (`ecp5_ram_source`).
    Ecp5,
}

impl std::str::FromStr for MemoryStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "inferred" => Ok(MemoryStyle::Inferred),
            "ecp5" => Ok(MemoryStyle::Ecp5),
            _ => Err(format!(
                "unknown memory style '{s}' (expected inferred or ecp5)"
            )),
        }
    }
}

/// Memories this shallow stay as inferred: Yosys puts them in LUT RAM (a DP16KD would hold
/// 1024 words, and a 136-bit word takes 8 of them).
pub const LUT_RAM_DEPTH: usize = 64;

/// Words and data bits of a DP16KD in its 18-bit shape, the one used here (the narrower
/// shapes would save blocks only on memories narrower than 18 bits).
const DP16KD_WORDS: usize = 1024;
const DP16KD_BITS: u32 = 18;

#[derive(Debug, Clone)]
struct Dp16kd {
    bank: usize,
    slice: u32,
    we: String,
    /// Where its read data sits in `rd_w`.
    rd_lsb: u32,
    /// The 64 INITVAL_xx parameters, as 80 hex digits each.
    initval: Vec<String>,
}

#[derive(Template)]
#[template(path = "rtl/ram_ecp5.v", escape = "none")]
struct Ecp5RamTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    about: &'a str,
    width: u32,
    depth: usize,
    addr_msb: u32,
    banks: usize,
    slices: u32,
    /// The bank select: the address bits above a block's 10.
    sel_msb: u32,
    wa_expr: String,
    ra_expr: String,
    wd_expr: String,
    rd_mux: String,
    blocks: Vec<Dp16kd>,
}

/// Bit `bit` of word `word` (0 past the contents).
fn word_bit(words: &[Vec<bool>], word: usize, bit: u32) -> bool {
    words
        .get(word)
        .and_then(|w| w.get(bit as usize).copied())
        .unwrap_or(false)
}

/// A word's hex digits as bits, lowest first.
fn hex_bits(hex: &str, width: u32) -> Vec<bool> {
    let mut bits = Vec::with_capacity(width as usize);
    for c in hex.chars().rev() {
        let v = c.to_digit(16).expect("memory words are hex");
        bits.extend((0..4).map(|i| v >> i & 1 == 1));
    }
    bits.truncate(width as usize);
    bits
}

/// The INITVAL_xx parameters of one block: 64 rows of 320 bits, each holding 16 words in
/// slots of 20 bits, a word's 18 bits at the bottom of its slot (the layout Yosys's ECP5
/// memory mapping writes for 18-bit ports).
fn initvals(words: &[Vec<bool>], bank: usize, slice: u32) -> Vec<String> {
    (0..64)
        .map(|row| {
            let mut v = vec![false; 320];
            for slot in 0..16 {
                for i in 0..DP16KD_BITS {
                    v[slot * 20 + i as usize] = word_bit(
                        words,
                        bank * DP16KD_WORDS + row * 16 + slot,
                        slice * DP16KD_BITS + i,
                    );
                }
            }
            v.chunks(4)
                .rev()
                .map(|d| {
                    let x = d
                        .iter()
                        .enumerate()
                        .map(|(i, &on)| u32::from(on) << i)
                        .sum::<u32>();
                    char::from_digit(x, 16)
                        .expect("a nibble")
                        .to_ascii_uppercase()
                })
                .collect()
        })
        .collect()
}

/// The memory `name` of `spec` built from ECP5 DP16KD block RAMs with their output register
/// (REGMODE OUTREG): the same ports and the same two-cycle read as `ram_file`'s, but the
/// block reads at the address register's edge, a cycle before the inferred form would.
pub fn ecp5_ram_source(name: &str, spec: &MemorySpec) -> String {
    let banks = spec.depth.div_ceil(DP16KD_WORDS);
    let slices = spec.width.div_ceil(DP16KD_BITS);
    let words: Vec<Vec<bool>> = spec.init.iter().map(|h| hex_bits(h, spec.width)).collect();
    let addr_bits = addr_bits(spec.depth);
    let blocks = (0..banks)
        .flat_map(|bank| (0..slices).map(move |slice| (bank, slice)))
        .map(|(bank, slice)| Dp16kd {
            bank,
            slice,
            we: if banks > 1 {
                format!(
                    "we_i & (waddr_i[{}:10] == {}'d{bank})",
                    addr_bits - 1,
                    addr_bits - 10
                )
            } else {
                "we_i".into()
            },
            rd_lsb: (bank as u32 * slices + slice) * DP16KD_BITS,
            initval: if spec.init.is_empty() {
                Vec::new()
            } else {
                initvals(&words, bank, slice)
            },
        })
        .collect();
    // The word within a block, 10 bits.
    let word = |a: &str| {
        if addr_bits >= 10 {
            format!("{a}[9:0]")
        } else {
            format!("{{{}'d0, {a}}}", 10 - addr_bits)
        }
    };
    let pad = slices * DP16KD_BITS - spec.width;
    let bank_data = |bank: usize| {
        format!(
            "rd_w[{} +: {}]",
            bank as u32 * slices * DP16KD_BITS,
            spec.width
        )
    };
    let mut rd_mux = bank_data(banks - 1);
    for bank in (0..banks - 1).rev() {
        rd_mux = format!(
            "(sel2_q == {}'d{bank}) ? {} : {rd_mux}",
            addr_bits - 10,
            bank_data(bank)
        );
    }
    finish(
        Ecp5RamTemplate {
            banner: &spec.banner,
            name,
            about: &spec.about,
            width: spec.width,
            depth: spec.depth,
            addr_msb: addr_bits - 1,
            banks,
            slices,
            sel_msb: addr_bits.saturating_sub(10).max(1) - 1,
            wa_expr: format!("{{{}, 4'b0011}}", word("waddr_i")),
            ra_expr: format!("{{{}, 4'b0000}}", word("raddr_i")),
            wd_expr: if pad > 0 {
                format!("{{{pad}'d0, wdata_i}}")
            } else {
                "wdata_i".into()
            },
            rd_mux,
            blocks,
        }
        .render(),
    )
}
