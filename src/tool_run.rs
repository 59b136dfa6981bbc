//! Running an external tool with a time limit: its output collected, and the tool killed (with
//! a clear error) when it runs past the limit, so no command of ours waits on a tool for ever.

use crate::error::{Error, Result};
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// Default limit of one tool run (a Yosys synthesis, one nextpnr seed, a Verilator build, an
/// Icarus run): far beyond any configuration the project costs, short of an afternoon.
pub const DEFAULT_TIMEOUT_S: u64 = 1800;

/// A limit as `--timeout` gives it: 0 means none.
pub fn limit(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Run `cmd` to completion within `timeout` (None: no limit), stdin closed; `what` names the
/// tool in errors.
pub fn output(cmd: &mut Command, timeout: Option<Duration>, what: &str) -> Result<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::tool(format!("cannot run {what}: {e}")))?;
    // Both pipes drain on their own threads, so a chatty tool never blocks on a full pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let status = match timeout {
        None => child
            .wait()
            .map_err(|e| Error::tool(format!("{what}: {e}")))?,
        Some(t) => match child
            .wait_timeout(t)
            .map_err(|e| Error::tool(format!("{what}: {e}")))?
        {
            Some(s) => s,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::tool(format!(
                    "{what} ran past the {} s time limit and was stopped (raise it with --timeout SECONDS, 0 for none)",
                    t.as_secs()
                )));
            }
        },
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_past_its_limit_is_stopped_with_an_error() {
        let start = std::time::Instant::now();
        let e = output(
            Command::new("sleep").arg("30"),
            Some(Duration::from_millis(300)),
            "sleep",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("time limit"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_tool_within_its_limit_gives_its_output() {
        let o = output(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Some(Duration::from_secs(30)),
            "sh",
        )
        .unwrap();
        assert_eq!(o.stdout, b"out\n");
        assert_eq!(o.stderr, b"err\n");
        assert_eq!(o.status.code(), Some(3));
    }
}
