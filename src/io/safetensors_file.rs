//! `.safetensors` checkpoints, one file or the shards of an index: F32, BF16 and F16 tensors,
//! selected by name. Only the selected tensors' bytes are touched (the files are mapped).

use super::{LoadOptions, Loaded, Skipped, Tensor, declared};
use crate::error::Error;
use crate::format::InputFormat;
use safetensors::{Dtype, SafeTensors};

fn float_format(d: Dtype) -> Option<InputFormat> {
    match d {
        Dtype::F32 => Some(InputFormat::F32),
        Dtype::BF16 => Some(InputFormat::Bf16),
        Dtype::F16 => Some(InputFormat::F16),
        _ => None,
    }
}

/// One file of a checkpoint: how errors name it, and its contents.
pub struct Shard<'a> {
    pub label: String,
    pub bytes: &'a [u8],
}

/// The tensors of a checkpoint made of `shards` (one for a single file); `name` is how errors
/// name the checkpoint.
pub fn read(shards: &[Shard], name: &str, opts: &LoadOptions) -> Result<Loaded, Error> {
    let parsed = shards
        .iter()
        .map(|s| {
            SafeTensors::deserialize(s.bytes).map_err(|e| {
                Error::input(format!(
                    "{}: corrupt or truncated .safetensors ({e})",
                    s.label
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Every tensor name, with the shard that holds it.
    let mut names: Vec<(String, usize)> = Vec::new();
    for (i, st) in parsed.iter().enumerate() {
        for n in st.names() {
            if names.iter().any(|(m, _)| m == n) {
                return Err(Error::input(format!(
                    "{name}: tensor {n} is in more than one shard"
                )));
            }
            names.push((n.to_string(), i));
        }
    }
    names.sort();
    let mut picked: Vec<&(String, usize)> = Vec::new();
    let mut skipped = Vec::new();
    let explicit = !opts.tensor_patterns.is_empty();
    if explicit {
        for re in &opts.tensor_patterns {
            let hits: Vec<&(String, usize)> =
                names.iter().filter(|(n, _)| re.is_match(n)).collect();
            if hits.is_empty() {
                let shown: Vec<&str> = names.iter().take(12).map(|(n, _)| n.as_str()).collect();
                return Err(Error::input(format!(
                    "{name}: no tensor matches --tensor '{re}' (tensors: {}{})",
                    shown.join(", "),
                    if names.len() > 12 { ", ..." } else { "" }
                )));
            }
            for h in hits {
                if !picked.contains(&h) {
                    picked.push(h);
                }
            }
        }
        picked.sort();
    } else {
        picked = names.iter().collect();
    }
    let mut tensors = Vec::new();
    for (n, shard) in picked {
        if opts.exclude.iter().any(|re| re.is_match(n)) {
            skipped.push(Skipped::new(n, "excluded by --exclude"));
            continue;
        }
        let view = parsed[*shard]
            .tensor(n)
            .map_err(|e| Error::input(format!("{name}: tensor {n}: {e}")))?;
        let Some(dtype) = float_format(view.dtype()) else {
            if explicit {
                return Err(Error::input(format!(
                    "{name}: tensor {n} has dtype {:?}; only F32, BF16 and F16 can be quantized",
                    view.dtype()
                )));
            }
            skipped.push(Skipped::new(n, &format!("dtype {:?}", view.dtype())));
            continue;
        };
        let shape = view.shape().to_vec();
        match shape.len() {
            0 => {
                skipped.push(Skipped::new(n, "a scalar"));
                continue;
            }
            2 => {}
            // A tensor picked by name was asked for, whatever its shape.
            d if !opts.all_shapes && !explicit => {
                let why = if d == 1 {
                    "1-D (a norm or bias vector; --all-shapes takes it as one row)".to_string()
                } else {
                    format!("{d}-D (--all-shapes takes it as rows of its last axis)")
                };
                skipped.push(Skipped::new(n, &why));
                continue;
            }
            _ => {}
        }
        let label = format!("{name}: tensor {n}");
        let dtype = declared(&label, dtype, opts.input_format)?;
        let data = view.data();
        let bits = match dtype {
            InputFormat::F32 => data
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            InputFormat::Bf16 | InputFormat::F16 => data
                .chunks_exact(2)
                .map(|c| dtype.widen(u32::from(u16::from_le_bytes([c[0], c[1]]))))
                .collect(),
        };
        tensors.push(Tensor {
            name: n.clone(),
            shape,
            dtype,
            bits,
        });
    }
    if tensors.is_empty() {
        let why: Vec<String> = skipped
            .iter()
            .take(6)
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        return Err(Error::input(format!(
            "{name}: no F32, BF16 or F16 matrix to quantize{}",
            if why.is_empty() {
                String::new()
            } else {
                format!(
                    "; skipped {}: {}{}",
                    skipped.len(),
                    why.join(", "),
                    if skipped.len() > 6 { ", ..." } else { "" }
                )
            }
        )));
    }
    Ok(Loaded {
        tensors,
        skipped,
        notes: Vec::new(),
    })
}
