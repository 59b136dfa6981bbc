//! `.safetensors` checkpoints: F32, BF16 and F16 tensors, selected by name.

use super::{LoadOptions, Tensor, check_shape, declared};
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

pub fn read(bytes: &[u8], name: &str, opts: &LoadOptions) -> Result<Vec<Tensor>, Error> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::input(format!("{name}: corrupt or truncated .safetensors ({e})")))?;
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    let mut picked = Vec::new();
    if opts.tensor_patterns.is_empty() {
        for n in &names {
            let dtype = st.tensor(n).map(|t| t.dtype()).ok();
            if dtype.and_then(float_format).is_some() {
                picked.push(n.clone());
            }
        }
        if picked.is_empty() {
            return Err(Error::input(format!(
                "{name}: no F32, BF16 or F16 tensor in the file"
            )));
        }
    } else {
        for re in &opts.tensor_patterns {
            let hits: Vec<&String> = names.iter().filter(|n| re.is_match(n)).collect();
            if hits.is_empty() {
                let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
                return Err(Error::input(format!(
                    "{name}: no tensor matches --tensor '{re}' (tensors: {}{})",
                    shown.join(", "),
                    if names.len() > 12 { ", ..." } else { "" }
                )));
            }
            for n in hits {
                if !picked.contains(n) {
                    picked.push(n.clone());
                }
            }
        }
        picked.sort();
    }
    picked
        .iter()
        .map(|n| {
            let view = st
                .tensor(n)
                .map_err(|e| Error::input(format!("{name}: tensor {n}: {e}")))?;
            let Some(dtype) = float_format(view.dtype()) else {
                return Err(Error::input(format!(
                    "{name}: tensor {n} has dtype {:?}; only F32, BF16 and F16 can be quantized",
                    view.dtype()
                )));
            };
            let label = format!("{name}: tensor {n}");
            let dtype = declared(&label, dtype, opts.input_format)?;
            let shape = view.shape().to_vec();
            check_shape(&label, &shape)?;
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
            Ok(Tensor {
                name: n.clone(),
                shape,
                dtype,
                bits,
            })
        })
        .collect()
}
