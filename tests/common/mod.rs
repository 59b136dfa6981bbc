//! Independent oracles for the golden model, written the slow, obvious way with f64 (exact for
//! every value these formats and FP32 inputs produce) and brute-force search.
#![allow(dead_code)]

use blockrtl::format::ElementFormat;
use blockrtl::format::minifloat::Decoded;

pub fn pow2(e: i32) -> f64 {
    2f64.powi(e)
}

/// floor(log2 x) for x > 0 by walking powers of two (no float log2).
pub fn floor_log2(x: f64) -> i32 {
    let mut e = 0;
    while pow2(e + 1) <= x {
        e += 1;
    }
    while pow2(e) > x {
        e -= 1;
    }
    e
}

/// Non-negative representable magnitudes with their codes, ascending (one zero).
pub fn ladder(f: ElementFormat) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = (0..1u32 << f.bits())
        .filter_map(|c| match f.decode(c) {
            Decoded::Finite {
                neg: false,
                sig,
                exp,
            } => Some((c, f64::from(sig) * pow2(exp))),
            _ => None,
        })
        .collect();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap());
    v
}

/// Nearest ladder entry to y >= 0; ties to the even code; above the top: the top.
pub fn nearest_even(lad: &[(u32, f64)], y: f64) -> u32 {
    let mut best = lad[0];
    for &(c, v) in lad {
        let (db, dv) = ((y - best.1).abs(), (y - v).abs());
        if dv < db || (dv == db && c % 2 == 0) {
            best = (c, v);
        }
    }
    best.0
}

/// MX conversion per numerics.md section 3, the slow way.
pub fn oracle_mx(f: ElementFormat, xs: &[f32]) -> (u32, Vec<u32>) {
    if xs.iter().any(|x| !x.is_finite()) {
        return (0xff, vec![0; xs.len()]);
    }
    let amax = xs.iter().map(|x| f64::from(x.abs())).fold(0.0, f64::max);
    // An all-zero block has the smallest scale; each zero keeps its sign below.
    let shared = if amax == 0.0 {
        -127
    } else {
        (floor_log2(amax) - f.emax()).max(-127)
    };
    let lad = ladder(f);
    let codes = xs
        .iter()
        .map(|&x| {
            let y = f64::from(x) / pow2(shared);
            let mag = nearest_even(&lad, y.abs());
            let neg = x.is_sign_negative();
            if f == ElementFormat::Int8 {
                let v = lad.iter().find(|e| e.0 == mag).unwrap().1 * 64.0;
                let v = if neg { -v } else { v } as i32;
                (v as u8) as u32
            } else if neg {
                mag | 1 << (f.bits() - 1)
            } else {
                mag
            }
        })
        .collect();
    ((shared + 127) as u32, codes)
}

/// Standard normal sample (Box-Muller) from a seeded generator, for building test blocks.
pub fn normal(rng: &mut impl rand::RngExt) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

pub fn rng(seed: u64) -> rand_pcg::Pcg64 {
    rand::SeedableRng::seed_from_u64(seed)
}

/// An external tool for a test: its path, or None (after saying why) when it is missing and we
/// are not in CI. Under CI=true a missing tool fails the test.
pub fn tool(name: &str, package: &str) -> Option<std::path::PathBuf> {
    match which::which(name) {
        Ok(p) => Some(p),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{name} is required under CI=true: apt-get install {package}")
        }
        Err(_) => {
            eprintln!("SKIP: {name} not found (apt-get install {package}); this test needs it");
            None
        }
    }
}

/// Run a command in `dir`; panic with its output if it fails, and return stdout + stderr.
pub fn run_ok(dir: &std::path::Path, prog: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(prog)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", prog.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?} in {} failed:\n{text}",
        prog.display(),
        dir.display()
    );
    text
}

/// A tool from PATH or from the project's YoWASP/FuseSoC venv (`scripts/install-eda-venv.sh`);
/// None (with a printed reason) when missing, a failure under CI=true.
pub fn venv_tool(name: &str) -> Option<std::path::PathBuf> {
    let local = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv-eda/bin")
        .join(name);
    if let Ok(p) = which::which(name) {
        return Some(p);
    }
    if local.is_file() {
        return Some(local);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} is required under CI=true: run scripts/install-eda-venv.sh");
    }
    eprintln!("SKIP: {name} not found (run scripts/install-eda-venv.sh); this test needs it");
    None
}

/// Run `bash ARGS` in `dir` with the built `blockrtl` first on the PATH, as a user with it
/// installed would; panics with the output if it fails, and returns stdout + stderr.
pub fn bash_with_blockrtl(dir: &std::path::Path, args: &[&str]) -> String {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_blockrtl"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "bash {args:?} failed:\n{text}");
    text
}

/// Run `run(seed, unit)` for every unit on two workers (each co-simulation builds its own
/// model, and this machine has two cores); `seed` is `worker * 100 + index`, unique per unit.
pub fn on_two_workers<T: Sync>(units: &[T], run: impl Fn(usize, &T) + Sync) {
    let (a, b) = units.split_at(units.len().div_ceil(2));
    std::thread::scope(|s| {
        for (w, part) in [a, b].into_iter().enumerate() {
            let run = &run;
            s.spawn(move || {
                for (i, u) in part.iter().enumerate() {
                    run(w * 100 + i, u);
                }
            });
        }
    });
}

/// Write `design`'s files into the new folder `rtl`, with the first `from` in the file
/// `<top><suffix>.v` replaced by `to` (a mutant); panics, naming `why`, when `from` is not there.
pub fn write_mutant(
    design: &blockrtl::emit::design::Design,
    rtl: &std::path::Path,
    suffix: &str,
    from: &str,
    to: &str,
    why: &str,
) {
    std::fs::create_dir(rtl).unwrap();
    let target = format!("{}{suffix}.v", design.top);
    for f in &design.files {
        let text = if f.name == target {
            assert!(f.contents.contains(from), "{why}: '{from}' not in {target}");
            f.contents.replacen(from, to, 1)
        } else {
            f.contents.clone()
        };
        std::fs::write(rtl.join(&f.name), text).unwrap();
    }
}
