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
        let bytes = f.bytes as usize;
        let mask = if f.bits >= 128 {
            u128::MAX
        } else {
            (1u128 << f.bits) - 1
        };
        let place = &mut self.rec[f.offset..f.offset + f.count * bytes];
        let takes = || format!("port {port} takes {} values", f.count);
        let mut values = values.into_iter();
        for dst in place.chunks_exact_mut(bytes) {
            let v = values.next().unwrap_or_else(|| panic!("{}", takes()));
            let m = (v as u128) & mask;
            // Fixed-size stores for the common widths (this runs for every value of a run).
            match bytes {
                1 => dst[0] = m as u8,
                2 => dst.copy_from_slice(&(m as u16).to_le_bytes()),
                4 => dst.copy_from_slice(&(m as u32).to_le_bytes()),
                8 => dst.copy_from_slice(&(m as u64).to_le_bytes()),
                _ => dst.copy_from_slice(&m.to_le_bytes()[..bytes]),
            }
        }
        assert!(values.next().is_none(), "{}", takes());
    }

    /// Set a port of one value.
    pub fn set(&mut self, port: &str, value: impl Into<i128>) {
        self.put(port, [value.into()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        // One port of each store width the writer special-cases, and the general one (3 and
        // 9 bytes).
        Layout::of(
            &[
                Port::input("a_i", 4, 2),
                Port::input("b_i", 16, 1),
                Port::input("c_i", 20, 1),
                Port::input("d_i", 32, 1),
                Port::input("e_i", 64, 1),
                Port::input("f_i", 72, 1),
                Port::output("g_o", 1, 1),
            ],
            "input",
        )
    }

    #[test]
    fn values_land_little_endian_in_their_field_masked_to_width() {
        let l = layout();
        let mut rec = Vec::new();
        let mut beat = l.beat(&mut rec);
        // Negative values are two's complement cut to the port's width.
        beat.put("a_i", [-1, 0x13]);
        beat.set("b_i", 0x1_2345i64);
        beat.set("c_i", -2i64);
        beat.set("d_i", 0xdead_beefu32);
        beat.set("e_i", -3i64);
        beat.set("f_i", (1i128 << 71) | 0x0102);
        let want: Vec<u8> = [
            vec![0x0f, 0x03],
            vec![0x45, 0x23],
            vec![0xfe, 0xff, 0x0f],
            vec![0xef, 0xbe, 0xad, 0xde],
            vec![0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            vec![0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x80],
        ]
        .concat();
        assert_eq!(rec, want);
        assert_eq!(l.unpack(&rec)[0], vec![0xf, 0x3]);
    }

    #[test]
    #[should_panic(expected = "port a_i takes 2 values")]
    fn too_many_values_are_refused() {
        let l = layout();
        let mut rec = Vec::new();
        l.beat(&mut rec).put("a_i", [1, 2, 3]);
    }

    #[test]
    #[should_panic(expected = "port a_i takes 2 values")]
    fn too_few_values_are_refused() {
        let l = layout();
        let mut rec = Vec::new();
        l.beat(&mut rec).put("a_i", [1]);
    }
}
