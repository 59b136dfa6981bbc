//! Binary beat records exchanged with the harness: each port's values, little-endian, in the
//! fewest whole bytes that hold one value, ports in manifest order.

use crate::emit::design::Port;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub bits: u32,
    pub bytes: u32,
    pub count: usize,
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub fields: Vec<Field>,
    pub beat_bytes: usize,
}

impl Layout {
    pub fn of(ports: &[Port], direction: &str) -> Layout {
        let mut offset = 0;
        let fields = ports
            .iter()
            .filter(|p| p.direction == direction)
            .map(|p| {
                let bytes = p.elem_width.div_ceil(8);
                let f = Field {
                    name: p.name.clone(),
                    bits: p.elem_width,
                    bytes,
                    count: p.count,
                    offset,
                };
                offset += bytes as usize * p.count;
                f
            })
            .collect();
        Layout {
            fields,
            beat_bytes: offset,
        }
    }

    /// Append one beat: `values[i]` holds field i's values.
    pub fn pack(&self, values: &[&[u64]], out: &mut Vec<u8>) {
        debug_assert_eq!(values.len(), self.fields.len());
        for (f, vs) in self.fields.iter().zip(values) {
            debug_assert_eq!(vs.len(), f.count, "{}", f.name);
            for &v in *vs {
                out.extend_from_slice(&v.to_le_bytes()[..f.bytes as usize]);
            }
        }
    }

    /// Append one value of field `field` (callers append a beat's fields in order).
    pub fn push(&self, field: usize, value: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&value.to_le_bytes()[..self.fields[field].bytes as usize]);
    }

    /// `push` for fields of up to 128 bits; a signed value is written in two's complement.
    pub fn push_wide(&self, field: usize, value: i128, out: &mut Vec<u8>) {
        let f = &self.fields[field];
        let masked = if f.bits >= 128 {
            value as u128
        } else {
            (value as u128) & ((1u128 << f.bits) - 1)
        };
        out.extend_from_slice(&masked.to_le_bytes()[..f.bytes as usize]);
    }

    /// Read one beat back into per-field values.
    pub fn unpack(&self, beat: &[u8]) -> Vec<Vec<u128>> {
        self.fields
            .iter()
            .map(|f| {
                (0..f.count)
                    .map(|j| {
                        let at = f.offset + j * f.bytes as usize;
                        let mut b = [0u8; 16];
                        b[..f.bytes as usize].copy_from_slice(&beat[at..at + f.bytes as usize]);
                        u128::from_le_bytes(b)
                    })
                    .collect()
            })
            .collect()
    }

    /// A one-line description of the record, for the harness banner.
    pub fn describe(&self) -> String {
        self.fields
            .iter()
            .map(|f| format!("{} {}x{}B", f.name, f.count, f.bytes))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Human-readable beat: `name=0x.. name=[..]`.
    pub fn show(&self, beat: &[u8]) -> String {
        self.fields
            .iter()
            .zip(self.unpack(beat))
            .map(|(f, vs)| {
                let hex: Vec<String> = vs.iter().map(|v| format!("{v:x}")).collect();
                if f.count == 1 {
                    format!("{}={}", f.name, hex[0])
                } else {
                    format!("{}=[{}]", f.name, hex.join(" "))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
