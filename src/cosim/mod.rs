//! Co-simulation: stream golden-model vectors through the verilated design and compare every
//! output beat, byte for byte.
//!
//! A writer thread generates stimulus chunks (a pure function of the seed and chunk index),
//! hands each chunk to the comparer *before* writing it to the harness, so the comparer always
//! has the expectation of whatever the harness emits and no pipe can deadlock.

pub mod build;
pub mod layout;
pub mod testbench;

use crate::emit::design::Design;
use crate::error::{Error, Result};
use crate::stimulus::Dist;
use layout::Layout;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

/// What a unit provides for co-simulation: stimulus, and how blocks map to beat records.
pub trait CosimUnit: Sync {
    fn design(&self) -> Result<Design>;
    /// Stimulus values per block (raw input codes as the hardware receives them).
    fn stimulus_len(&self) -> usize;
    /// Append one block of stimulus values.
    fn stimulus(&self, dist: Dist, rng: &mut Pcg64, out: &mut Vec<u32>);
    /// Append the input beat records of one block. By default every stimulus value is one
    /// element of the only input port, in order (quantizers, the selector).
    fn input_beats(&self, layout: &Layout, stim: &[u32], out: &mut Vec<u8>) {
        for &x in stim {
            layout.push(0, u64::from(x), out);
        }
    }
    /// Append the golden model's output beat records for one block.
    fn expected_beats(&self, layout: &Layout, stim: &[u32], out: &mut Vec<u8>);
}

#[derive(Debug, Clone)]
pub struct CosimOptions {
    pub blocks: u64,
    pub seed: u64,
    /// Probability that the source withholds a beat, and that the sink is not ready, per cycle.
    pub stall_prob: f64,
    /// Distributions, used in turn block by block.
    pub dists: Vec<Dist>,
    pub wave: Option<PathBuf>,
    /// Folder for the replay file written on a mismatch.
    pub replay_dir: PathBuf,
    /// Test hook: flip one bit of the golden expectation of this block.
    pub corrupt_expected: Option<u64>,
    pub progress: bool,
}

impl Default for CosimOptions {
    fn default() -> Self {
        CosimOptions {
            blocks: 100_000,
            seed: 1,
            stall_prob: 0.0,
            dists: Dist::ALL.to_vec(),
            wave: None,
            replay_dir: PathBuf::from("."),
            corrupt_expected: None,
            progress: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CosimReport {
    pub top: String,
    pub blocks: u64,
    pub mismatches: u64,
    pub blocks_per_s: f64,
    pub cycles_per_block: f64,
    /// Cycles from the first input beat accepted to the first output beat.
    pub first_latency: Option<i64>,
    pub build_cached: bool,
    pub build_seconds: f64,
    /// The first failures in full.
    pub failures: Vec<String>,
    pub replay: Option<PathBuf>,
}

impl CosimReport {
    pub fn summary(&self) -> String {
        format!(
            "cosim {}: {} blocks, {} mismatches, {:.2} M blocks/s, {:.2} cycles/block",
            self.top,
            self.blocks,
            self.mismatches,
            self.blocks_per_s / 1e6,
            self.cycles_per_block
        )
    }
}

const CHUNK_BLOCKS: u64 = 4096;
const SHOWN_FAILURES: usize = 4;
/// Replay files hold at most this many blocks (from block 0, so stalls replay exactly).
const REPLAY_MAX_BLOCKS: u64 = 200_000;

/// Append the stimulus of block `b`: a pure function of the seed and the block index, so any
/// block can be regenerated alone (replay files).
pub fn block_stimulus(unit: &dyn CosimUnit, opts: &CosimOptions, b: u64, out: &mut Vec<u32>) {
    let mut rng = Pcg64::seed_from_u64(opts.seed ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let dist = opts.dists[(b % opts.dists.len() as u64) as usize];
    unit.stimulus(dist, &mut rng, out);
}

/// Blocks `first..first + n`: flat stimulus, input records and expected output records, each
/// block taking a fixed stride in each.
struct Chunk {
    first: u64,
    n: usize,
    stim: Vec<u32>,
    input: Vec<u8>,
    expected: Vec<u8>,
}

impl Chunk {
    fn stim_of(&self, i: usize) -> &[u32] {
        let s = self.stim.len() / self.n;
        &self.stim[i * s..(i + 1) * s]
    }

    fn expected_of(&self, i: usize) -> &[u8] {
        let s = self.expected.len() / self.n;
        &self.expected[i * s..(i + 1) * s]
    }
}

/// Sequential on purpose: the harness needs a core of its own.
fn make_chunk(
    unit: &dyn CosimUnit,
    opts: &CosimOptions,
    inl: &Layout,
    outl: &Layout,
    range: std::ops::Range<u64>,
) -> Chunk {
    let n = (range.end - range.start) as usize;
    let mut c = Chunk {
        first: range.start,
        n,
        stim: Vec::with_capacity(n * unit.stimulus_len()),
        input: Vec::new(),
        expected: Vec::new(),
    };
    for b in range {
        let at = c.stim.len();
        block_stimulus(unit, opts, b, &mut c.stim);
        let stim = &c.stim[at..];
        unit.input_beats(inl, stim, &mut c.input);
        let e_at = c.expected.len();
        unit.expected_beats(outl, stim, &mut c.expected);
        if opts.corrupt_expected == Some(b) {
            c.expected[e_at] ^= 1;
        }
    }
    c
}

/// Input records and expected output records of blocks `0..opts.blocks`, as `run` streams them.
pub fn vectors(
    unit: &dyn CosimUnit,
    opts: &CosimOptions,
    inl: &Layout,
    outl: &Layout,
) -> (Vec<u8>, Vec<u8>) {
    let c = make_chunk(unit, opts, inl, outl, 0..opts.blocks);
    (c.input, c.expected)
}

pub fn run(unit: &dyn CosimUnit, opts: &CosimOptions) -> Result<CosimReport> {
    if opts.dists.is_empty() {
        return Err(Error::input("no stimulus distribution given"));
    }
    if !(0.0..1.0).contains(&opts.stall_prob) {
        return Err(Error::input(format!(
            "--stall-prob {} must be at least 0 and below 1",
            opts.stall_prob
        )));
    }
    let design = unit.design()?;
    let built = build::build(&design, opts.wave.is_some())?;
    let in_layout = Layout::of(&design.ports, "input");
    let out_layout = Layout::of(&design.ports, "output");
    let mut cmd = Command::new(&built.binary);
    cmd.args(["--stall-in", &opts.stall_prob.to_string()])
        .args(["--stall-out", &opts.stall_prob.to_string()])
        .args(["--seed", &opts.seed.to_string()])
        .args(["--drain", &build::drain_cycles(&design).to_string()]);
    if let Some(w) = &opts.wave {
        cmd.arg("--wave").arg(w);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::tool(format!("cannot start {}: {e}", built.binary.display())))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout =
        std::io::BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
    let mut stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let bar = crate::progress::bar(
        opts.blocks,
        &format!("cosim {}", design.top),
        "blocks",
        opts.progress,
    );
    let chunks = opts.blocks.div_ceil(CHUNK_BLOCKS);
    let start = Instant::now();
    let (tx, rx) = sync_channel::<Chunk>(3);
    let mut report = CosimReport {
        top: design.top.clone(),
        blocks: opts.blocks,
        mismatches: 0,
        blocks_per_s: 0.0,
        cycles_per_block: 0.0,
        first_latency: None,
        build_cached: built.cached,
        build_seconds: built.seconds,
        failures: Vec::new(),
        replay: None,
    };
    let mut first_fail: Option<u64> = None;
    let mut harness_ended = None;
    std::thread::scope(|s| {
        let (inl, outl) = (&in_layout, &out_layout);
        s.spawn(move || {
            for c in 0..chunks {
                let end = ((c + 1) * CHUNK_BLOCKS).min(opts.blocks);
                let mut chunk = make_chunk(unit, opts, inl, outl, c * CHUNK_BLOCKS..end);
                let input = std::mem::take(&mut chunk.input);
                if tx.send(chunk).is_err() {
                    return;
                }
                if stdin.write_all(&input).is_err() {
                    return; // the harness ended; the comparer reports it
                }
            }
            drop(stdin);
        });
        let mut got = Vec::new();
        for chunk in rx.iter() {
            for i in 0..chunk.n {
                let b = chunk.first + i as u64;
                let e = chunk.expected_of(i);
                got.resize(e.len(), 0);
                if harness_ended.is_none()
                    && let Err(err) = stdout.read_exact(&mut got)
                {
                    harness_ended = Some(format!("the harness stopped after {b} blocks ({err})"));
                }
                if harness_ended.is_some() || got != e {
                    report.mismatches += 1;
                    first_fail.get_or_insert(b);
                    if report.failures.len() < SHOWN_FAILURES {
                        report.failures.push(describe_failure(
                            b,
                            chunk.stim_of(i),
                            &out_layout,
                            e,
                            harness_ended.as_deref().map_or(Some(&got[..]), |_| None),
                        ));
                    }
                }
            }
            bar.inc(chunk.n as u64);
        }
    });
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let status = child
        .wait()
        .map_err(|e| Error::tool(format!("harness: {e}")))?;
    let log = err_thread.join().unwrap_or_default();
    let stats = HarnessStats::parse(&log);
    report.blocks_per_s = opts.blocks as f64 / elapsed;
    if let Some(st) = &stats {
        report.cycles_per_block = st.cycles as f64 / opts.blocks.max(1) as f64;
        if st.first_in >= 0 && st.first_out >= 0 {
            report.first_latency = Some(st.first_out - st.first_in);
        }
    }
    if !status.success() && report.mismatches == 0 {
        return Err(Error::tool(format!(
            "harness for {} failed ({status}): {}",
            design.top,
            log.trim()
        )));
    }
    if let Some(msg) = harness_ended {
        report
            .failures
            .push(format!("{msg}; harness log: {}", log.trim()));
    }
    if let Some(fail) = first_fail {
        report.replay = Some(write_replay(
            unit,
            opts,
            &design,
            &in_layout,
            &out_layout,
            fail,
        )?);
    }
    Ok(report)
}

fn describe_failure(
    block: u64,
    stim: &[u32],
    out: &Layout,
    expected: &[u8],
    got: Option<&[u8]>,
) -> String {
    let inputs: Vec<String> = stim.iter().map(|v| format!("{v:x}")).collect();
    let mut s = format!("block {block}: inputs (hex) [{}]", inputs.join(" "));
    let beats = expected.len() / out.beat_bytes.max(1);
    for b in 0..beats {
        let r = b * out.beat_bytes..(b + 1) * out.beat_bytes;
        let e = &expected[r.clone()];
        match got {
            Some(g) if &g[r.clone()] != e => {
                s.push_str(&format!(
                    "\n  beat {b} expected {}\n  beat {b} got      {}",
                    out.show(e),
                    out.show(&g[r])
                ));
            }
            None => s.push_str(&format!(
                "\n  beat {b} expected {}\n  beat {b} got      nothing",
                out.show(e)
            )),
            _ => {}
        }
    }
    s
}

/// Replay file: blocks 0..=first failure (at most REPLAY_MAX_BLOCKS, the last ones), so the
/// harness reproduces the stall pattern exactly when it starts at block 0.
fn write_replay(
    unit: &dyn CosimUnit,
    opts: &CosimOptions,
    design: &Design,
    inl: &Layout,
    outl: &Layout,
    fail: u64,
) -> Result<PathBuf> {
    let last = fail + 1;
    let first = last.saturating_sub(REPLAY_MAX_BLOCKS);
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    let mut at = first;
    while at < last {
        let end = (at + CHUNK_BLOCKS).min(last);
        let chunk = make_chunk(unit, opts, inl, outl, at..end);
        ins.extend_from_slice(&chunk.input);
        outs.extend_from_slice(&chunk.expected);
        at = end;
    }
    let mut file = Vec::new();
    file.extend_from_slice(b"BRTLRPY1");
    for v in [
        inl.beat_bytes as u64,
        outl.beat_bytes as u64,
        (ins.len() / inl.beat_bytes) as u64,
        (outs.len() / outl.beat_bytes) as u64,
        opts.seed,
    ] {
        file.extend_from_slice(&v.to_le_bytes());
    }
    // Replays that start after block 0 cannot reproduce the stalls: run them without.
    let stall = if first == 0 { opts.stall_prob } else { 0.0 };
    file.extend_from_slice(&stall.to_le_bytes());
    file.extend_from_slice(&stall.to_le_bytes());
    file.extend_from_slice(&ins);
    file.extend_from_slice(&outs);
    let path = replay_path(&opts.replay_dir, &design.top, opts.seed);
    crate::emit::write::write_atomic(&path, &file)?;
    Ok(path)
}

fn replay_path(dir: &Path, top: &str, seed: u64) -> PathBuf {
    dir.join(format!("{top}-seed{seed}.replay"))
}

struct HarnessStats {
    cycles: u64,
    first_in: i64,
    first_out: i64,
}

impl HarnessStats {
    fn parse(log: &str) -> Option<HarnessStats> {
        let line = log.lines().find(|l| l.starts_with("harness: cycles="))?;
        let get = |key: &str| -> Option<i64> {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .and_then(|v| v.parse().ok())
        };
        Some(HarnessStats {
            cycles: get("cycles=")? as u64,
            first_in: get("first_in=")?,
            first_out: get("first_out=")?,
        })
    }
}

/// Run a replay file through a built harness; returns (passed, harness output).
pub fn replay(binary: &Path, file: &Path) -> Result<(bool, String)> {
    let out = Command::new(binary)
        .arg("--replay")
        .arg(file)
        .output()
        .map_err(|e| Error::tool(format!("cannot run {}: {e}", binary.display())))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}
