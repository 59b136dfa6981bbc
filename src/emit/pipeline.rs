//! Valid/ready pipeline stages: which cut points get registers, and how stages chain.
//!
//! Every registered stage has a valid bit (reset). In short pipelines a stage loads when it is
//! empty or the stage after it moves on, so bubbles collapse and a stalled sink stalls only what
//! it must. From `GLOBAL_STALL_FROM` stages on, that enable would ripple through every stage
//! into thousands of flip-flop enables (measured: the critical path of a 10-stage quantizer on
//! ECP5), so deep pipelines move as one: every stage loads when the last one is empty or the
//! sink takes it. One block per cycle either way while the sink is ready.

use serde::Serialize;

/// One registered stage, in pipeline order, with the signal names its handshake uses.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: String,
    pub prev_valid: String,
    /// This stage's load enable.
    pub en_expr: String,
}

/// Pipelines this deep stall as one (see the module comment).
pub const GLOBAL_STALL_FROM: usize = 6;

/// Chain `count` stages named s1..sN after `source_valid`, ending at `sink_ready`. Returns the
/// stages, the first stage's enable (what the source sees as ready) and the last valid.
pub fn chain(count: usize, source_valid: &str, sink_ready: &str) -> (Vec<Stage>, String, String) {
    let names: Vec<String> = (1..=count).map(|i| format!("s{i}")).collect();
    let global = count >= GLOBAL_STALL_FROM;
    let last = names.last().cloned().unwrap_or_default();
    let stages = names
        .iter()
        .enumerate()
        .map(|(i, n)| Stage {
            name: n.clone(),
            prev_valid: if i == 0 {
                source_valid.to_string()
            } else {
                format!("valid_{}_q", names[i - 1])
            },
            en_expr: if global {
                format!("~valid_{last}_q | {sink_ready}")
            } else {
                format!(
                    "~valid_{n}_q | {}",
                    names
                        .get(i + 1)
                        .map_or(sink_ready.to_string(), |m| format!("en_{m}_w"))
                )
            },
        })
        .collect();
    let first_en = names
        .first()
        .map_or(sink_ready.to_string(), |n| format!("en_{n}_w"));
    let last_valid = names
        .last()
        .map_or(source_valid.to_string(), |n| format!("valid_{n}_q"));
    (stages, first_en, last_valid)
}

/// A cut point in a datapath: registered or a plain wire, and the enable it uses when registered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cut {
    pub registered: bool,
    pub en: String,
}

/// Hands the stages of a chain, in pipeline order, to the cut points that are registered.
pub struct Cuts<'a> {
    stages: std::slice::Iter<'a, Stage>,
}

impl<'a> Cuts<'a> {
    pub fn new(stages: &'a [Stage]) -> Cuts<'a> {
        Cuts {
            stages: stages.iter(),
        }
    }

    /// The next cut point: registered with the next stage's enable, or a plain wire.
    pub fn take(&mut self, on: bool) -> Cut {
        Cut {
            registered: on,
            en: if on {
                let s = self.stages.next().expect("a stage per registered cut");
                format!("en_{}_w", s.name)
            } else {
                String::new()
            },
        }
    }

    /// The names of the stages no cut has taken.
    pub fn rest(self) -> impl Iterator<Item = String> + 'a {
        self.stages.map(|s| s.name.clone())
    }
}

/// Registers that carry a signal along a run of cuts, each fed by the one before and the first
/// by `src`: `(register, enable, source)` per cut, and the name at the end (`src` when there
/// are no cuts).
pub fn delay_chain(
    cuts: &[Cut],
    name: impl Fn(usize) -> String,
    src: &str,
) -> (Vec<(String, String, String)>, String) {
    let mut at = src.to_string();
    let regs = cuts
        .iter()
        .enumerate()
        .map(|(i, cut)| {
            let reg = name(i);
            let d = (reg.clone(), cut.en.clone(), at.clone());
            at = reg;
            d
        })
        .collect();
    (regs, at)
}

/// An output register stage: its name, enable, and the sources of what it registers.
#[derive(Debug, Clone, Serialize)]
pub struct OutStage {
    pub name: String,
    pub en: String,
    pub code_src: String,
    pub scale_src: String,
    pub nan_src: String,
    pub last_src: String,
}

/// Chain output register stages after the given sources; returns the stages and the final
/// (code, scale, nan, last) signal names.
pub fn out_stages(
    stage_names: &[String],
    src: (&str, &str, &str, &str),
) -> (Vec<OutStage>, (String, String, String, String)) {
    let mut cur = (
        src.0.to_string(),
        src.1.to_string(),
        src.2.to_string(),
        src.3.to_string(),
    );
    let mut out = Vec::new();
    for n in stage_names {
        out.push(OutStage {
            name: n.clone(),
            en: format!("en_{n}_w"),
            code_src: cur.0.clone(),
            scale_src: cur.1.clone(),
            nan_src: cur.2.clone(),
            last_src: cur.3.clone(),
        });
        cur = (
            format!("code_{n}_q"),
            format!("scale_{n}_q"),
            format!("nan_{n}_q"),
            format!("last_{n}_q"),
        );
    }
    (out, cur)
}

/// The banner's list of where the registers are, ` (a, b, ...)`, or nothing when none is.
pub fn stage_summary<S: AsRef<str>>(registered: &[S]) -> String {
    if registered.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = registered.iter().map(AsRef::as_ref).collect();
        format!(" ({})", names.join(", "))
    }
}
