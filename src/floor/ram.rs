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
