//! Co-simulation: stream golden-model vectors through the verilated design and compare every
//! output beat, byte for byte.
//!
//! Stimulus is a pure function of the seed and the block index, so a writer thread makes each
//! chunk's input beats and the comparer makes the same chunk's expectations on its own: neither
//! waits for the other, the only waits are on the harness's pipes, and the harness's watchdog
//! always ends it, so no pipe can deadlock.

pub mod build;
pub mod rtl;
pub mod testbench;
pub mod wave;

use crate::emit::design::Design;
use crate::emit::layout::Layout;
use crate::error::{Error, Result};
use crate::stimulus::Dist;
use crate::units::Checked;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct CosimOptions {
    pub blocks: u64,
    pub seed: u64,
    /// Probability that the source withholds a beat, and that the sink is not ready, per cycle.
    pub stall_prob: f64,
    /// Distributions, used in turn block by block.
    pub dists: Vec<Dist>,
    pub wave: Option<wave::Wave>,
    /// Folder for the replay file written on a mismatch.
    pub replay_dir: PathBuf,
    /// Test hook: flip one bit of the golden expectation of this block.
    pub corrupt_expected: Option<u64>,
    pub progress: bool,
    /// Sink-ready cycles a block's output may take once its input is complete (default: the
    /// generated design's latency plus slack).
    pub watchdog_cycles: Option<u64>,
    /// Verilog to simulate instead of the generated design: a folder, and the top module in it.
    pub rtl: Option<rtl::RtlSource>,
    /// Limit of the Verilator build and of an Icarus compile or run, in seconds (0: none). The
    /// streaming run itself ends by its watchdog.
    pub timeout_s: u64,
    /// Stimulus from a file (raw input codes, whole blocks), used in turn instead of the
    /// distributions.
    pub stimulus: Option<std::sync::Arc<Vec<u32>>>,
}

impl CosimOptions {
    /// The design to simulate: the unit's generated one, or the user's RTL in its place.
    pub fn design_of(&self, unit: &dyn Checked) -> Result<Design> {
        let design = unit.emit()?;
        match &self.rtl {
            Some(r) => r.apply(design),
            None => Ok(design),
        }
    }
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
            watchdog_cycles: None,
            rtl: None,
            timeout_s: crate::tool_run::DEFAULT_TIMEOUT_S,
            stimulus: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CosimReport {
    pub top: String,
    pub blocks: u64,
    /// Failing blocks, missing ones included.
    pub mismatches: u64,
    /// Blocks at the end whose output never came.
    pub missing: u64,
    /// Output beats after the last block's output.
    pub extra_beats: u64,
    pub blocks_per_s: f64,
    pub cycles_per_block: f64,
    /// Cycles from the first input beat accepted to the first output beat.
    pub first_latency: Option<i64>,
    /// Cycles from the first input beat taken to the last output beat sent.
    pub span_cycles: Option<u64>,
    pub build_cached: bool,
    pub build_seconds: f64,
    /// The first failures in full.
    pub failures: Vec<String>,
    pub replay: Option<PathBuf>,
    pub split: TimeSplit,
}

impl CosimReport {
    pub fn summary(&self) -> String {
        let missing = if self.missing > 0 {
            format!(" ({} of them missing)", self.missing)
        } else {
            String::new()
        };
        // A gemm "block" is a group of rows taking thousands of cycles: 0.00 M/s says nothing.
        let rate = if self.blocks_per_s >= 10_000.0 {
            format!("{:.2} M blocks/s", self.blocks_per_s / 1e6)
        } else {
            format!("{:.1} blocks/s", self.blocks_per_s)
        };
        format!(
            "cosim {}: {} blocks, {} mismatches{missing}, {rate}, {:.2} cycles/block",
            self.top, self.blocks, self.mismatches, self.cycles_per_block
        )
    }
}

/// Where a run's time went, in seconds: CPU time of each thread (the writer makes stimulus and
/// input beats and writes them; a second maker joins it when stimulus is slow; the comparer
/// runs the golden model and compares), the harness's own CPU time (it reports it), and the
/// part of the comparer's wall time spent in the golden model.
#[derive(Debug, Clone, Default)]
pub struct TimeSplit {
    pub wall: f64,
    pub writer_cpu: Option<f64>,
    pub helper_cpu: Option<f64>,
    pub comparer_cpu: Option<f64>,
    pub golden: f64,
    pub waiting: f64,
    pub harness_cpu: Option<f64>,
}

impl TimeSplit {
    pub fn describe(&self) -> String {
        let s = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.2} s"));
        let helper = self.helper_cpu.map_or(String::new(), |h| {
            format!(", second stimulus maker {h:.2} s")
        });
        format!(
            "time: wall {:.2} s; CPU: writer (stimulus, input beats) {}{helper}, comparer {} (golden model {:.2} s, waiting and comparing {:.2} s), harness {}",
            self.wall,
            s(self.writer_cpu),
            s(self.comparer_cpu),
            self.golden,
            self.waiting,
            s(self.harness_cpu)
        )
    }
}

/// A thread's CPU time since `start` (Linux: /proc/thread-self/stat, in 10 ms ticks).
struct ThreadCpu(Option<f64>);

impl ThreadCpu {
    fn now() -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // Fields after the command name (which may hold spaces): state is the first, utime
        // and stime the 12th and 13th; /proc counts in USER_HZ = 100 ticks a second.
        let rest = &stat[stat.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        Some(ticks as f64 / 100.0)
    }

    fn start() -> ThreadCpu {
        ThreadCpu(Self::now())
    }

    fn seconds(&self) -> Option<f64> {
        Some(Self::now()? - self.0?)
    }
}

const CHUNK_BLOCKS: u64 = 4096;
/// Seconds per block of stimulus and input beats above which a second thread makes them:
/// quantizers' stimulus takes 0.3-0.6 us a block here, dots' 0.8-1.8 us.
const SLOW_STIMULUS_S: f64 = 0.7e-6;
const SHOWN_FAILURES: usize = 4;
/// Replay files hold at most this many blocks (from block 0, so stalls replay exactly).
const REPLAY_MAX_BLOCKS: u64 = 200_000;

/// Append the stimulus of block `b`: a pure function of the seed and the block index, so any
/// block can be regenerated alone (replay files).
pub fn block_stimulus(unit: &dyn Checked, opts: &CosimOptions, b: u64, out: &mut Vec<u32>) {
    if let Some(s) = &opts.stimulus {
        let len = unit.stimulus_len();
        let at = (b % (s.len() / len) as u64) as usize * len;
        out.extend_from_slice(&s[at..at + len]);
        return;
    }
    let mut rng = Pcg64::seed_from_u64(opts.seed ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let dist = opts.dists[(b % opts.dists.len() as u64) as usize];
    unit.stimulus(dist, &mut rng, out);
}

/// Blocks `first..first + n` and their flat stimulus, each block taking a fixed stride.
struct Chunk {
    first: u64,
    n: usize,
    stim: Vec<u32>,
}

impl Chunk {
    /// Sequential on purpose: the harness needs a core of its own.
    fn of(unit: &dyn Checked, opts: &CosimOptions, range: std::ops::Range<u64>) -> Chunk {
        let n = (range.end - range.start) as usize;
        let mut stim = Vec::with_capacity(n * unit.stimulus_len());
        let first = range.start;
        for b in range {
            block_stimulus(unit, opts, b, &mut stim);
        }
        Chunk { first, n, stim }
    }

    fn stim_of(&self, i: usize) -> &[u32] {
        let s = self.stim.len() / self.n;
        &self.stim[i * s..(i + 1) * s]
    }

    /// The input beats of every block, as the writer streams them.
    fn input_records(&self, unit: &dyn Checked, layout: &Layout) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..self.n {
            unit.input_beats(layout, self.stim_of(i), &mut out);
            if i == 0 {
                out.reserve(out.len() * (self.n - 1));
            }
        }
        out
    }

    /// The expected output beats of every block, as the comparer checks them.
    fn expected_records(
        &self,
        unit: &dyn Checked,
        opts: &CosimOptions,
        layout: &Layout,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..self.n {
            let at = out.len();
            unit.expected_beats(layout, self.stim_of(i), &mut out);
            if opts.corrupt_expected == Some(self.first + i as u64) {
                out[at] ^= 1;
            }
            if i == 0 {
                out.reserve(out.len() * (self.n - 1));
            }
        }
        out
    }
}

/// Input records and expected output records of blocks `0..opts.blocks`, as `run` streams them.
pub fn vectors(
    unit: &dyn Checked,
    opts: &CosimOptions,
    inl: &Layout,
    outl: &Layout,
) -> (Vec<u8>, Vec<u8>) {
    let c = Chunk::of(unit, opts, 0..opts.blocks);
    (
        c.input_records(unit, inl),
        c.expected_records(unit, opts, outl),
    )
}

/// Input and output beats of one co-simulation block (the same for every block of a unit),
/// which the harness's watchdog counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub in_beats: u64,
    pub out_beats: u64,
}

impl Framing {
    pub fn of(unit: &dyn Checked, inl: &Layout, outl: &Layout) -> Framing {
        let (i, e) = vectors(
            unit,
            &CosimOptions {
                blocks: 1,
                ..CosimOptions::default()
            },
            inl,
            outl,
        );
        Framing {
            in_beats: (i.len() / inl.beat_bytes.max(1)) as u64,
            out_beats: (e.len() / outl.beat_bytes.max(1)) as u64,
        }
    }
}

/// Sink-ready cycles within which a block's output must be complete once its input is, and a
/// presented input beat must be taken: `--watchdog-cycles`, else the generated design's drain.
pub fn watchdog_cycles(design: &Design, opts: &CosimOptions) -> u64 {
    opts.watchdog_cycles
        .unwrap_or_else(|| build::drain_cycles(design))
}

pub fn run(unit: &dyn Checked, opts: &CosimOptions) -> Result<CosimReport> {
    if opts.blocks == 0 {
        // A run of no blocks would pass without checking anything.
        return Err(Error::input("--blocks must be at least 1"));
    }
    if opts.dists.is_empty() {
        return Err(Error::input("no stimulus distribution given"));
    }
    if !(0.0..1.0).contains(&opts.stall_prob) {
        return Err(Error::input(format!(
            "--stall-prob {} must be at least 0 and below 1",
            opts.stall_prob
        )));
    }
    let design = opts.design_of(unit)?;
    let spin = crate::progress::spinner(&format!("verilating {}", design.top), opts.progress);
    let built = build::build(
        &design,
        opts.wave.as_ref().map(|w| w.format),
        crate::tool_run::limit(opts.timeout_s),
    );
    spin.finish_and_clear();
    let built = built?;
    let in_layout = Layout::of(&design.ports, "input");
    let out_layout = Layout::of(&design.ports, "output");
    let framing = Framing::of(unit, &in_layout, &out_layout);
    let watchdog = watchdog_cycles(&design, opts);
    let mut cmd = Command::new(&built.binary);
    cmd.args(["--stall-in", &opts.stall_prob.to_string()])
        .args(["--stall-out", &opts.stall_prob.to_string()])
        .args(["--seed", &opts.seed.to_string()])
        .args([
            "--drain",
            &build::drain_cycles(&design).max(watchdog).to_string(),
        ])
        .args(["--block-in", &framing.in_beats.to_string()])
        .args(["--block-out", &framing.out_beats.to_string()])
        .args(["--watchdog", &watchdog.to_string()]);
    if let Some(w) = &opts.wave {
        let (start, stop) = w.beats(framing.in_beats, framing.out_beats);
        cmd.arg("--wave")
            .arg(&w.path)
            .args(["--wave-start-in", &start.to_string()])
            .args(["--wave-stop-out", &stop.to_string()]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::tool(format!("cannot start {}: {e}", built.binary.display())))?;
    let mut stdin = child.stdin.take().expect("piped");
    // Read unbuffered: the comparer reads a chunk's output at a time, straight into place.
    let mut stdout = child.stdout.take().expect("piped");
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
    let mut report = CosimReport {
        top: design.top.clone(),
        blocks: opts.blocks,
        mismatches: 0,
        missing: 0,
        extra_beats: 0,
        blocks_per_s: 0.0,
        cycles_per_block: 0.0,
        first_latency: None,
        span_cycles: None,
        build_cached: built.cached,
        build_seconds: built.seconds,
        failures: Vec::new(),
        replay: None,
        split: TimeSplit::default(),
    };
    let mut first_fail: Option<u64> = None;
    let mut split = TimeSplit::default();
    // The writer makes each chunk's stimulus once and hands it to the comparer before writing
    // the chunk's input, so the comparer only ever waits for output of input already written;
    // the harness always ends (its watchdog), which closes the pipes. The channel's bound
    // keeps the writer a few chunks ahead, no more.
    std::thread::scope(|s| {
        let inl = &in_layout;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(4);
        let make = move |c: u64| {
            let end = ((c + 1) * CHUNK_BLOCKS).min(opts.blocks);
            let t = Instant::now();
            let chunk = Chunk::of(unit, opts, c * CHUNK_BLOCKS..end);
            let records = chunk.input_records(unit, inl);
            (chunk, records, t.elapsed().as_secs_f64())
        };
        let writer = s.spawn(move || {
            let cpu = ThreadCpu::start();
            let first = make(0);
            // Stimulus slow enough to hold the harness back (a dot's operands are quantized in
            // it) gets a second thread, making the odd chunks; the writer keeps them in order.
            // Fast stimulus stays on one: a thread more only adds contention for two cores.
            let per_block = first.2 / first.0.n as f64;
            let helper = (chunks > 1 && per_block > SLOW_STIMULUS_S).then(|| {
                let (htx, hrx) = std::sync::mpsc::sync_channel(1);
                let helper = s.spawn(move || {
                    let cpu = ThreadCpu::start();
                    for c in (1..chunks).step_by(2) {
                        if htx.send(make(c)).is_err() {
                            break; // the writer stopped
                        }
                    }
                    cpu.seconds()
                });
                (hrx, helper)
            });
            let mut first = Some(first);
            for c in 0..chunks {
                let made = match (&helper, first.take()) {
                    (_, Some(m)) => m,
                    (Some((hrx, _)), None) if c % 2 == 1 => match hrx.recv() {
                        Ok(m) => m,
                        Err(_) => break,
                    },
                    _ => make(c),
                };
                let (chunk, records, _) = made;
                if tx.send(chunk).is_err() || stdin.write_all(&records).is_err() {
                    break; // the harness ended; the comparer reports it
                }
            }
            drop(stdin);
            let helper_cpu = helper.and_then(|(hrx, h)| {
                drop(hrx);
                h.join().ok().flatten()
            });
            (cpu.seconds(), helper_cpu)
        });
        let comparer_cpu = ThreadCpu::start();
        let mut got = Vec::new();
        'chunks: for c in 0..chunks {
            let Ok(chunk) = rx.recv() else {
                // Only a dropped receiver stops the writer early, but never pass a block unread.
                let b = c * CHUNK_BLOCKS;
                report.missing = opts.blocks - b;
                report.mismatches += report.missing;
                first_fail.get_or_insert(b);
                report
                    .failures
                    .push(format!("the input writer stopped before block {b}"));
                break;
            };
            let t = Instant::now();
            let expected = chunk.expected_records(unit, opts, &out_layout);
            split.golden += t.elapsed().as_secs_f64();
            // The chunk's output in one read and one compare; block by block only where it
            // differs or ends early.
            let t = Instant::now();
            got.resize(expected.len(), 0);
            let came = read_full(&mut stdout, &mut got).map_or_else(|n| n, |()| got.len());
            if came < got.len() || got != expected {
                let stride = expected.len() / chunk.n;
                for i in 0..chunk.n {
                    let b = chunk.first + i as u64;
                    let at = i * stride..(i + 1) * stride;
                    let e = &expected[at.clone()];
                    if at.end > came {
                        let part = &got[at.start..came.max(at.start)];
                        report.missing = opts.blocks - b;
                        report.mismatches += report.missing;
                        first_fail.get_or_insert(b);
                        let after = match b {
                            0 => "missing output: no block came out".to_string(),
                            _ => format!("missing output after block {}", b - 1),
                        };
                        let text = format!(
                            "{after} (the harness ended after {} bytes of block {b}'s output)\n{}",
                            part.len(),
                            describe_failure(b, chunk.stim_of(i), &out_layout, e, part)
                        );
                        report.failures.truncate(SHOWN_FAILURES - 1);
                        report.failures.push(text);
                        break 'chunks;
                    }
                    let g = &got[at];
                    if g != e {
                        report.mismatches += 1;
                        first_fail.get_or_insert(b);
                        if report.failures.len() < SHOWN_FAILURES {
                            report.failures.push(describe_failure(
                                b,
                                chunk.stim_of(i),
                                &out_layout,
                                e,
                                g,
                            ));
                        }
                    }
                }
            }
            split.waiting += t.elapsed().as_secs_f64();
            bar.inc(chunk.n as u64);
        }
        // Unblock a writer waiting to hand over a chunk the comparer will not look at.
        drop(rx);
        if report.missing == 0 {
            // Anything after the last expected beat is output the design should not have made.
            let mut rest = Vec::new();
            let _ = stdout.read_to_end(&mut rest);
            let beat = out_layout.beat_bytes.max(1);
            if !rest.is_empty() {
                report.extra_beats = rest.len().div_ceil(beat) as u64;
                report.mismatches += 1;
                first_fail.get_or_insert(opts.blocks.saturating_sub(1));
                report.failures.push(format!(
                    "unexpected output: {} beat(s) after the output of the last block {}; the first: {}",
                    report.extra_beats,
                    opts.blocks.saturating_sub(1),
                    out_layout.show(&rest[..beat.min(rest.len())])
                ));
            }
        }
        drop(stdout);
        (split.writer_cpu, split.helper_cpu) = writer.join().unwrap_or_default();
        split.comparer_cpu = comparer_cpu.seconds();
    });
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let status = child
        .wait()
        .map_err(|e| Error::tool(format!("harness: {e}")))?;
    let log = err_thread.join().unwrap_or_default();
    let stats = HarnessStats::parse(&log);
    report.blocks_per_s = opts.blocks as f64 / elapsed;
    split.wall = elapsed;
    split.harness_cpu = stats.as_ref().and_then(|st| st.cpu);
    report.split = split;
    if let Some(st) = &stats {
        report.cycles_per_block = st.cycles as f64 / opts.blocks.max(1) as f64;
        if st.first_in >= 0 && st.first_out >= 0 {
            report.first_latency = Some(st.first_out - st.first_in);
            report.span_cycles = Some((st.last_out - st.first_in + 1) as u64);
        }
    }
    let watchdog_line = log
        .lines()
        .find_map(|l| l.strip_prefix("harness: watchdog: "));
    if let Some(w) = watchdog_line {
        if report.mismatches == 0 {
            report.mismatches += 1;
            first_fail.get_or_insert(opts.blocks.saturating_sub(1));
        }
        let hint = if opts.rtl.is_some()
            && opts.watchdog_cycles.is_none()
            && w.starts_with("missing")
        {
            " (the bound comes from the generated design; if your RTL is deeper, raise --watchdog-cycles)"
        } else {
            ""
        };
        report.failures.push(format!("harness watchdog: {w}{hint}"));
    } else if !status.success() {
        if report.mismatches == 0 {
            return Err(Error::tool(format!(
                "harness for {} failed ({status}): {}",
                design.top,
                log.trim()
            )));
        }
        report
            .failures
            .push(format!("the harness failed ({status}): {}", log.trim()));
    }
    if let Some(fail) = first_fail {
        report.replay = Some(write_replay(
            unit,
            opts,
            &design,
            (&in_layout, &out_layout),
            framing,
            fail,
        )?);
    }
    Ok(report)
}

/// Fill `buf` from `r`; on an early end, the number of bytes that came.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::result::Result<(), usize> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => return Err(at),
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(at),
        }
    }
    Ok(())
}

fn describe_failure(block: u64, stim: &[u32], out: &Layout, expected: &[u8], got: &[u8]) -> String {
    let inputs: Vec<String> = stim.iter().map(|v| format!("{v:x}")).collect();
    let mut s = format!("block {block}: inputs (hex) [{}]", inputs.join(" "));
    let beats = expected.len() / out.beat_bytes.max(1);
    for b in 0..beats {
        let r = b * out.beat_bytes..(b + 1) * out.beat_bytes;
        let e = &expected[r.clone()];
        match got.get(r) {
            Some(g) if g == e => {}
            Some(g) => s.push_str(&format!(
                "\n  beat {b} expected {}\n  beat {b} got      {}",
                out.show(e),
                out.show(g)
            )),
            None => s.push_str(&format!(
                "\n  beat {b} expected {}\n  beat {b} got      nothing",
                out.show(e)
            )),
        }
    }
    s
}

/// Blocks a replay keeps after the first failure: a wrong output can depend on the input that
/// follows it (a late valid samples the next block's data).
const REPLAY_TAIL_BLOCKS: u64 = 64;

/// Replay file: blocks 0..=first failure and a few after (at most REPLAY_MAX_BLOCKS, the last
/// ones), so the harness reproduces the stall pattern exactly when it starts at block 0.
fn write_replay(
    unit: &dyn Checked,
    opts: &CosimOptions,
    design: &Design,
    (inl, outl): (&Layout, &Layout),
    framing: Framing,
    fail: u64,
) -> Result<PathBuf> {
    let last = (fail + 1 + REPLAY_TAIL_BLOCKS).min(opts.blocks.max(fail + 1));
    let first = last.saturating_sub(REPLAY_MAX_BLOCKS);
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    let mut at = first;
    while at < last {
        let end = (at + CHUNK_BLOCKS).min(last);
        let c = Chunk::of(unit, opts, at..end);
        ins.extend(c.input_records(unit, inl));
        outs.extend(c.expected_records(unit, opts, outl));
        at = end;
    }
    // Replays that start after block 0 cannot reproduce the stalls: run them without.
    let stall = if first == 0 { opts.stall_prob } else { 0.0 };
    let header = ReplayHeader {
        in_beat_bytes: inl.beat_bytes as u64,
        out_beat_bytes: outl.beat_bytes as u64,
        in_beats: (ins.len() / inl.beat_bytes.max(1)) as u64,
        out_beats: (outs.len() / outl.beat_bytes.max(1)) as u64,
        seed: opts.seed,
        framing,
        watchdog: watchdog_cycles(design, opts),
        stall,
    };
    let mut file = header.to_bytes();
    file.extend_from_slice(&ins);
    file.extend_from_slice(&outs);
    let path = replay_path(&opts.replay_dir, &design.top, opts.seed);
    crate::emit::write::write_atomic(&path, &file)?;
    Ok(path)
}

const REPLAY_MAGIC: &[u8; 8] = b"BRTLRPY2";
const REPLAY_HEADER_BYTES: usize = 8 + 8 * 10;

/// The fixed header of a replay file (the harness reads the same layout).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayHeader {
    pub in_beat_bytes: u64,
    pub out_beat_bytes: u64,
    pub in_beats: u64,
    pub out_beats: u64,
    pub seed: u64,
    pub framing: Framing,
    pub watchdog: u64,
    pub stall: f64,
}

impl ReplayHeader {
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = REPLAY_MAGIC.to_vec();
        for x in [
            self.in_beat_bytes,
            self.out_beat_bytes,
            self.in_beats,
            self.out_beats,
            self.seed,
            self.framing.in_beats,
            self.framing.out_beats,
            self.watchdog,
        ] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(&self.stall.to_le_bytes());
        v.extend_from_slice(&self.stall.to_le_bytes());
        v
    }

    /// Check a replay file against the design it is to run on, before anything is built: a
    /// file that is missing, empty, of another design or cut short is an input error.
    pub fn check(path: &Path, design: &Design) -> Result<ReplayHeader> {
        let name = path.display();
        let bad = |why: String| Error::input(format!("--replay {name}: {why}"));
        let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
        if !meta.is_file() {
            return Err(bad("not a file".into()));
        }
        let mut head = Vec::with_capacity(REPLAY_HEADER_BYTES);
        std::fs::File::open(path)
            .and_then(|f| f.take(REPLAY_HEADER_BYTES as u64).read_to_end(&mut head))
            .map_err(|e| bad(format!("cannot read it ({e})")))?;
        if head.is_empty() {
            return Err(bad("the file is empty".into()));
        }
        if head.len() < 8 || &head[..8] != REPLAY_MAGIC {
            return Err(bad(
                "not a blockrtl replay file (no BRTLRPY2 header; cosim writes one on a mismatch)"
                    .into(),
            ));
        }
        if head.len() < REPLAY_HEADER_BYTES {
            return Err(bad("the header is cut short".into()));
        }
        let u =
            |i: usize| u64::from_le_bytes(head[8 + 8 * i..16 + 8 * i].try_into().expect("8 bytes"));
        let h = ReplayHeader {
            in_beat_bytes: u(0),
            out_beat_bytes: u(1),
            in_beats: u(2),
            out_beats: u(3),
            seed: u(4),
            framing: Framing {
                in_beats: u(5),
                out_beats: u(6),
            },
            watchdog: u(7),
            stall: f64::from_le_bytes(head[72..80].try_into().expect("8 bytes")),
        };
        let (inl, outl) = (
            Layout::of(&design.ports, "input"),
            Layout::of(&design.ports, "output"),
        );
        if (h.in_beat_bytes, h.out_beat_bytes) != (inl.beat_bytes as u64, outl.beat_bytes as u64) {
            return Err(bad(format!(
                "recorded for beats of {} in / {} out bytes, but {} has {} / {} (another unit or configuration)",
                h.in_beat_bytes, h.out_beat_bytes, design.top, inl.beat_bytes, outl.beat_bytes
            )));
        }
        let body = h
            .in_beats
            .checked_mul(h.in_beat_bytes)
            .and_then(|a| {
                h.out_beats
                    .checked_mul(h.out_beat_bytes)
                    .and_then(|b| a.checked_add(b))
            })
            .and_then(|n| n.checked_add(REPLAY_HEADER_BYTES as u64));
        if body != Some(meta.len()) {
            return Err(bad(format!(
                "{} bytes, but its header promises {} (truncated or corrupt)",
                meta.len(),
                body.map_or("more than 2^64".into(), |n| n.to_string())
            )));
        }
        if !(0.0..1.0).contains(&h.stall) {
            return Err(bad(format!(
                "stall probability {} is not in [0, 1)",
                h.stall
            )));
        }
        Ok(h)
    }
}

fn replay_path(dir: &Path, top: &str, seed: u64) -> PathBuf {
    dir.join(format!("{top}-seed{seed}.replay"))
}

struct HarnessStats {
    /// Seconds of CPU the harness used (user and system).
    cpu: Option<f64>,
    cycles: u64,
    first_in: i64,
    first_out: i64,
    last_out: i64,
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
            cpu: line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("cpu="))
                .and_then(|v| v.parse().ok()),
            cycles: get("cycles=")? as u64,
            first_in: get("first_in=")?,
            first_out: get("first_out=")?,
            last_out: get("last_out=")?,
        })
    }
}

/// `cosim --replay FILE`: check the file against the unit's design before anything is built,
/// build the harness, and run the file; (passed, harness output, the line that says why not).
pub fn run_replay(
    unit: &dyn Checked,
    opts: &CosimOptions,
    file: &Path,
) -> Result<(bool, String, Option<String>)> {
    let design = opts.design_of(unit)?;
    ReplayHeader::check(file, &design)?;
    let built = build::build(
        &design,
        opts.wave.as_ref().map(|w| w.format),
        crate::tool_run::limit(opts.timeout_s),
    )?;
    let (ok, text) = replay(
        &built.binary,
        file,
        opts.wave.as_ref().map(|w| w.path.as_path()),
    )?;
    let why = (!ok).then(|| {
        text.lines()
            .find(|l| {
                l.starts_with("harness: watchdog")
                    || l.starts_with("replay: output beat")
                    || l.contains("output beats, expected")
            })
            .unwrap_or("the outputs differ")
            .to_string()
    });
    Ok((ok, text, why))
}

/// Run a replay file through a built harness; returns (passed, harness output).
pub fn replay(binary: &Path, file: &Path, wave: Option<&Path>) -> Result<(bool, String)> {
    let mut cmd = Command::new(binary);
    cmd.arg("--replay").arg(file);
    if let Some(w) = wave {
        cmd.arg("--wave").arg(w);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::tool(format!("cannot run {}: {e}", binary.display())))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_counts_this_threads_work() {
        // Busy until this thread's own CPU time passes 50 ms: it must, however loaded the
        // machine is (the wall-clock bound only stops a broken reading from hanging the test).
        let cpu = ThreadCpu::start();
        assert!(cpu.0.is_some(), "Linux has /proc/thread-self/stat");
        let t = Instant::now();
        let mut x = 0u64;
        while cpu.seconds().unwrap() < 0.05 {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            assert!(t.elapsed().as_secs() < 60, "thread CPU time never advanced");
        }
    }
}
