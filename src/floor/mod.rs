//! The shared hardware floor: pieces several units compose instead of keeping copies (the
//! checks on blocking, the formatbook reference, the input and element decode lanes, the
//! dialect selector, bundles, FP32 rounding and addition).
//! Units use these and never each other's helpers.

pub mod book;
pub mod bundle;
pub mod checks;
pub mod decode;
pub mod element;
pub mod fp32;
pub mod ram;
pub mod selector;

pub use book::BookRef;

/// A rendered template, ending in a newline.
pub fn finish(r: askama::Result<String>) -> String {
    let mut s = r.expect("templates render");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
