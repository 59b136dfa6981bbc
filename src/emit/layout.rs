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

    /// Append one zeroed beat record and a writer that fills it field by field, by port name,
    /// in any order: what a unit's stimulus and expectations are written with.
    pub fn beat<'a>(&'a self, out: &'a mut Vec<u8>) -> Beat<'a> {
        let at = out.len();
        out.resize(at + self.beat_bytes, 0);
        Beat {
            layout: self,
            rec: &mut out[at..],
        }
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

/// One beat record being written: values go to their port's place whatever the order.
pub struct Beat<'a> {
    layout: &'a Layout,
    rec: &'a mut [u8],
}

impl<'a> Beat<'a> {
    /// The port's field, borrowed from the layout (not from the beat, which is being written).
    fn field(&self, port: &str) -> &'a Field {
        let layout: &'a Layout = self.layout;
        layout
            .fields
            .iter()
            .find(|f| f.name == port)
            .unwrap_or_else(|| panic!("the unit has no port {port}"))
    }

    /// Set the values of a port (`count` of them), two's complement where negative.
    pub fn put(&mut self, port: &str, values: impl IntoIterator<Item = i128>) {
        let f = self.field(port);
        let mut n = 0;
        for v in values {
            assert!(n < f.count, "port {port} takes {} values", f.count);
            let masked = if f.bits >= 128 {
                v as u128
            } else {
                (v as u128) & ((1u128 << f.bits) - 1)
            };
            let at = f.offset + n * f.bytes as usize;
            self.rec[at..at + f.bytes as usize]
                .copy_from_slice(&masked.to_le_bytes()[..f.bytes as usize]);
            n += 1;
        }
        assert_eq!(n, f.count, "port {port} takes {} values", f.count);
    }

    /// Set a port of one value.
    pub fn set(&mut self, port: &str, value: impl Into<i128>) {
        self.put(port, [value.into()]);
    }
}
