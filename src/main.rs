//! The command line: parse, call the library, print. Exit status 2 for bad input, 1 for a
//! failed run (a mismatch, a tool that broke), 0 otherwise.

mod cli_args;

use blockrtl::cosim::{CosimOptions, wave::Wave};
use blockrtl::error::Error;
use blockrtl::package::Package;
use blockrtl::quantize;
use blockrtl::synth::pnr::Part;
use blockrtl::synth::{SynthOptions, Target, sweep};
use blockrtl::units::Checked;
use clap::Parser;
use cli_args::*;
use std::process::ExitCode;

/// Print a line to stdout; a closed pipe (`| head`) ends the program quietly, not in a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}
fn quantize(a: QuantizeArgs) -> Result<(), Error> {
    let req = a.request()?;
    let report = quantize::run(&req)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(|e| Error::tool(e.to_string()))?;
        say!("");
    } else {
        report
            .write_text(&mut out)
            .map_err(|e| Error::tool(e.to_string()))?;
    }
    Ok(())
}

fn generate(a: GenerateArgs) -> Result<(), Error> {
    let units = match &a.config {
        Some(path) => blockrtl::units::load_config(path)?,
        None => vec![a.unit.params()?],
    };
    let checked = units
        .iter()
        .map(|u| u.check())
        .collect::<Result<Vec<_>, Error>>()?;
    let ecp5 = a.memories == blockrtl::floor::ram::MemoryStyle::Ecp5;
    if ecp5 && a.testbench.is_some() {
        return Err(Error::input(
            "--testbench simulates the inferred memories: it does not take --memories ecp5",
        ));
    }
    let mut packages = checked
        .iter()
        .map(|u| u.emit().map(Package::of))
        .collect::<Result<Vec<_>, Error>>()?;
    if ecp5 {
        for p in &mut packages {
            let built = p.design.build_ecp5_memories();
            say!(
                "{}: {built} memories built from ECP5 DP16KD block RAMs",
                p.design.top
            );
        }
    }
    if let Some(blocks) = a.testbench {
        if blocks == 0 || blocks > 1_000_000 {
            return Err(Error::input("--testbench takes 1..=1000000 blocks"));
        }
        let opts = CosimOptions {
            blocks,
            seed: a.tb_seed,
            stall_prob: a.tb_stall_prob,
            ..CosimOptions::default()
        };
        for (p, u) in packages.iter_mut().zip(&checked) {
            p.testbench = Some(blockrtl::cosim::testbench::testbench(u.as_ref(), &opts)?);
        }
    }
    let summary = blockrtl::package::write(&a.out, &packages, a.force)?;
    for d in packages.iter().map(|p| &p.design) {
        say!(
            "{}: {} files, latency {} cycles, {} beat(s) per block",
            d.top,
            d.files.len(),
            d.latency,
            d.beats_per_block
        );
    }
    say!(
        "{}: {} written, {} unchanged",
        a.out.display(),
        summary.written.len(),
        summary.unchanged.len()
    );
    Ok(())
}

fn cosim_icarus(unit: &dyn Checked, opts: &CosimOptions) -> Result<(), Error> {
    let run = blockrtl::cosim::testbench::cosim_icarus(unit, opts)?;
    for l in &run.lines {
        say!("{l}");
    }
    say!(
        "cosim {} on icarus: {} blocks, {} ({:.1} s)",
        run.top,
        opts.blocks,
        if run.passed { "passed" } else { "FAILED" },
        run.seconds
    );
    match &run.kept {
        None => Ok(()),
        Some(kept) => Err(Error::Check(format!(
            "icarus run of {} failed; testbench and vectors kept in {}",
            run.top,
            kept.display()
        ))),
    }
}

fn cosim(a: CosimArgs) -> Result<(), Error> {
    let units: Vec<Box<dyn Checked>> = match &a.config {
        Some(path) => blockrtl::units::load_checked(path)?,
        None => vec![a.unit.params()?.check()?],
    };
    if let Some(w) = a.watchdog_cycles
        && !(1..=1_000_000_000).contains(&w)
    {
        return Err(Error::input(format!(
            "--watchdog-cycles {w} must be 1..=1000000000"
        )));
    }
    let rtl = a.rtl.clone().map(|dir| blockrtl::cosim::rtl::RtlSource {
        dir,
        top: a.top.clone(),
    });
    let (stimulus, blocks) = match &a.activations {
        None => (None, a.blocks.unwrap_or(100_000)),
        Some(path) => {
            let blockrtl::units::UnitParams::Gemm(p) = a.unit.params()? else {
                return Err(Error::input("--activations applies to --unit gemm"));
            };
            let rows =
                blockrtl::units::gemm::activation_rows(&p, path, a.activations_tensor.as_deref())?;
            let groups = (rows.len() / p.group_stimulus_len()) as u64;
            (Some(std::sync::Arc::new(rows)), a.blocks.unwrap_or(groups))
        }
    };
    let opts = CosimOptions {
        blocks,
        seed: a.seed,
        stall_prob: a.stall_prob,
        dists: if a.dists.is_empty() {
            blockrtl::stimulus::Dist::ALL.to_vec()
        } else {
            a.dists.clone()
        },
        wave: a
            .wave
            .as_deref()
            .map(|w| Wave::new(w, a.wave_from.unwrap_or(0), a.wave_blocks))
            .transpose()?,
        replay_dir: a.replay_dir.clone(),
        corrupt_expected: a.test_corrupt_expected,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        watchdog_cycles: a.watchdog_cycles,
        rtl,
        timeout_s: a.timeout,
        stimulus,
    };
    let mut failed = Vec::new();
    for unit in &units {
        match cosim_one(unit.as_ref(), &a, &opts) {
            Err(Error::Check(why)) if units.len() > 1 => {
                say!("FAIL: {why}");
                failed.push(why);
            }
            other => other?,
        }
    }
    if !failed.is_empty() {
        return Err(Error::Check(format!(
            "{} of {} units failed co-simulation",
            failed.len(),
            units.len()
        )));
    }
    Ok(())
}

/// Co-simulate one unit as the flags say.
fn cosim_one(unit: &dyn Checked, a: &CosimArgs, opts: &CosimOptions) -> Result<(), Error> {
    if let Some(file) = &a.replay {
        if a.simulator != "verilator" {
            return Err(Error::input(
                "--replay runs the Verilator harness (drop --simulator)",
            ));
        }
        let (ok, text, why) = blockrtl::cosim::run_replay(unit, opts, file)?;
        for l in text.lines() {
            say!("{l}");
        }
        return match why {
            None if ok => Ok(()),
            why => Err(Error::Check(format!(
                "replay of {} failed: {}",
                file.display(),
                why.unwrap_or_default()
            ))),
        };
    }
    if a.simulator == "icarus" {
        return cosim_icarus(unit, opts);
    }
    let r = blockrtl::cosim::run(unit, opts)?;
    eprintln!(
        "build: {} ({:.1} s)",
        if r.build_cached {
            "cached"
        } else {
            "verilated"
        },
        r.build_seconds
    );
    for f in &r.failures {
        say!("{f}");
    }
    say!("{}", r.summary());
    say!("{}", r.split.describe());
    if let (Some(peak), Some(span)) = (unit.hardware().peak_cycles_per_block(), r.span_cycles) {
        let ideal = peak * opts.blocks;
        say!(
            "utilisation {:.4} of the peak rate: {ideal} cycles at one block pair per dot unit per cycle, {span} from the first input taken to the last result sent",
            ideal as f64 / span as f64
        );
    }
    // Accuracy over the run's first blocks (their stimulus regenerated: a pure function of the
    // seed and the block).
    let mut stim = Vec::new();
    for b in 0..opts.blocks.min(ACCURACY_BLOCKS) {
        blockrtl::cosim::block_stimulus(unit, opts, b, &mut stim);
    }
    if let Some(line) = unit.accuracy(&stim) {
        say!("{line}");
    }
    if let Some(path) = &r.replay {
        say!(
            "replay: {} (run it with the same unit flags and --replay {})",
            path.display(),
            path.display()
        );
    }
    if r.mismatches > 0 {
        return Err(Error::Check(format!("{} mismatching blocks", r.mismatches)));
    }
    Ok(())
}

fn synth_options(a: &SynthArgs) -> Result<SynthOptions, Error> {
    let mut o = SynthOptions::new(a.target);
    match (a.target, &a.part) {
        (Target::Xilinx, Some(f)) => o.family = f.clone(),
        (Target::Generic, Some(p)) => {
            return Err(Error::input(format!(
                "--part '{p}': the generic target has no device"
            )));
        }
        (t, Some(p)) => o.part = Some(Part::parse(t, p)?),
        _ => {}
    }
    o.freq_mhz = a.freq;
    o.seeds = a.seeds;
    o.no_dsp = a.no_dsp;
    o.ecp5_bram_outreg = a.ecp5_bram_outreg;
    o.use_cache = !a.no_cache;
    o.timeout_s = a.timeout;
    o.validate()?;
    Ok(o)
}

/// Blocks whose accuracy `cosim` reports (the golden model runs again over them).
const ACCURACY_BLOCKS: u64 = 1 << 14;

fn pack(a: PackArgs) -> Result<(), Error> {
    let blockrtl::units::UnitParams::Gemm(p) = a.unit.params()? else {
        return Err(Error::input(
            "pack writes the weight memories of --unit gemm",
        ));
    };
    if p.weights.is_none() {
        return Err(Error::input(
            "pack needs --weights FILE.safetensors --tensor NAME (the tile's weights)",
        ));
    }
    let tile = blockrtl::units::Unit::check(&p)?;
    let paths = blockrtl::units::gemm::pack::write(&tile, &a.out, a.force)?;
    for path in &paths {
        say!("wrote {}", path.display());
    }
    say!(
        "weights: {} (sha256 of the images {})",
        tile.weights().label,
        tile.weights().digest
    );
    Ok(())
}

fn prove(a: ProveArgs) -> Result<(), Error> {
    let unit = a.unit.params()?.check()?;
    let opts = blockrtl::prove::ProveOptions {
        depth: a.depth,
        engine: a.engine,
        properties: a.properties.clone(),
        rtl: a.rtl.clone().map(|dir| blockrtl::cosim::rtl::RtlSource {
            dir,
            top: a.top.clone(),
        }),
        trace_dir: a.trace_dir.clone(),
        timeout_s: a.timeout,
        jobs: a.jobs,
    };
    let report = blockrtl::prove::prove(unit.as_ref(), &opts)?;
    say!("prove {}:", report.top);
    for l in report.lines() {
        say!("  {l}");
    }
    if report.passed() {
        say!("prove {}: every property holds", report.top);
        Ok(())
    } else {
        Err(Error::Check(format!(
            "prove {}: a property does not hold",
            report.top
        )))
    }
}

fn synth(a: SynthArgs) -> Result<(), Error> {
    let opts = synth_options(&a)?;
    let bases = match &a.config {
        Some(path) => blockrtl::units::load_config(path)?,
        None => vec![a.unit.params()?],
    };
    let axes = a
        .sweeps
        .iter()
        .map(|s| sweep::Axis::parse(s))
        .collect::<Result<Vec<_>, Error>>()?;
    if axes.is_empty() && bases.len() == 1 {
        let design = bases[0].emit()?;
        let report = blockrtl::synth::run(&design, &opts, &|m| eprintln!("{m}"))?;
        if a.json {
            say!(
                "{}",
                serde_json::to_string_pretty(&report).expect("serializable")
            );
        } else {
            let mut text = Vec::new();
            report
                .write_text(&mut text)
                .map_err(|e| Error::tool(e.to_string()))?;
            say!("{}", String::from_utf8_lossy(&text).trim_end());
        }
        return Ok(());
    }
    let out = a.out.as_ref().ok_or_else(|| {
        Error::input("a sweep (or a --config of several units) needs --out FOLDER for its table")
    })?;
    let run = sweep::run(&bases, &axes, &opts, out, a.force, true)?;
    say!("{}", run.markdown.trim_end());
    let dir = out.join(""); // a trailing slash, once
    say!("wrote {}{{sweep.json,sweep.csv,sweep.md}}", dir.display());
    if run.failed > 0 {
        return Err(Error::tool(format!(
            "{} of {} configurations failed (see the error column)",
            run.failed, run.rows
        )));
    }
    Ok(())
}

fn explore(a: ExploreArgs) -> Result<(), Error> {
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if let Some(ExploreSub::Formatbook(f)) = a.sub {
        return explore_formatbook(f, progress);
    }
    let input = a
        .input
        .ok_or_else(|| Error::input("explore needs --input MODEL.safetensors"))?;
    let out = a
        .out
        .ok_or_else(|| Error::input("explore needs --out FOLDER for its report"))?;
    let synth = match a.synth_target.as_str() {
        "none" => None,
        t => {
            let target: Target = t.parse().map_err(Error::input)?;
            let mut o = SynthOptions::new(target);
            o.timeout_s = a.timeout;
            o.validate()?;
            Some(o)
        }
    };
    let opts = blockrtl::explore::ExploreOptions {
        input,
        load: a.select.options(None)?,
        formats: a.formats,
        block_sizes: a.block_sizes,
        scale_rules: a.scale_rules,
        selector: a.selector,
        synth,
        budget_bits: a.budget_bits_per_element,
        min_sqnr_db: a.min_sqnr_db,
        pad: a.pad,
        activations: a.activations,
        progress,
    };
    blockrtl::explore::validate(&opts)?;
    // Refuse before the work, not after it.
    blockrtl::explore::refuse_existing(&out, a.force)?;
    let report = blockrtl::explore::run(&opts)?;
    let written = blockrtl::explore::write_outputs(&report, &opts, &out, a.force)?;
    for line in report.summary_lines() {
        say!("{line}");
    }
    eprintln!(
        "times: load {:.1} s, error {:.1} s, synth {:.1} s, activations {:.1} s",
        report.seconds.load, report.seconds.error, report.seconds.synth, report.seconds.activations
    );
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    say!("wrote {}", names.join(", "));
    Ok(())
}

fn explore_formatbook(f: FormatbookSearchArgs, progress: bool) -> Result<(), Error> {
    use blockrtl::explore::formatbook_search as fs;
    fs::refuse_existing(&f.out, f.force)?;
    let holdout = f
        .holdout
        .as_deref()
        .map(|h| regex::Regex::new(h).map_err(|e| Error::input(format!("--holdout '{h}': {e}"))))
        .transpose()?;
    let opts = fs::SearchOptions {
        input: f.input,
        load: f.select.options(None)?,
        dialects: f.dialects,
        block_size: f.block_size,
        holdout,
        sample_blocks: f.sample_blocks,
        max_rounds: f.max_rounds,
        progress,
    };
    let (book, report) = fs::search(&opts)?;
    let md = fs::write_outputs(&book, &report, &f.out)?;
    say!("{}", md.trim_end());
    let dir = f.out.join(""); // a trailing slash, once
    say!("wrote {}{{{}}}", dir.display(), fs::OUTPUTS.join(","));
    Ok(())
}

fn make_tensor(a: MakeTensorArgs) -> Result<(), Error> {
    blockrtl::io::demo::write(&blockrtl::io::demo::DemoTensors {
        dist: a.dist,
        shape: a.shape.clone(),
        dtype: a.dtype,
        count: a.count,
        seed: a.seed,
        out: a.out.clone(),
        force: a.force,
    })?;
    eprintln!(
        "wrote {} ({} tensor(s) of {} {}, {} with sigma 0.02, seed {})",
        a.out.display(),
        a.count,
        a.shape,
        a.dtype,
        a.dist,
        a.seed
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quantize(a) => quantize(a),
        Command::MakeTensor(a) => make_tensor(a),
        Command::Generate(a) => generate(a),
        Command::Cosim(a) => cosim(a),
        Command::Synth(a) => synth(a),
        Command::Prove(a) => prove(a),
        Command::Pack(a) => pack(a),
        Command::Explore(a) => explore(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blockrtl: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
