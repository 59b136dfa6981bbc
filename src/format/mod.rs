//! Number formats as data: element formats, block scales, input formats and formatbooks.

pub mod block;
pub mod element;
pub mod encode_table;
pub mod exact;
pub mod formatbook;
pub mod input;
pub mod minifloat;
pub mod scale;

pub use block::OperandFormat;
pub use element::ElementFormat;
pub use formatbook::{DialectPair, Formatbook, FormatbookError};
pub use input::InputFormat;
pub use scale::{ScaleFormat, ScaleRule};
