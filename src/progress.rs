//! Progress bars on stderr for long work (indicatif draws them only when stderr is a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` in `template`, or a hidden one when not `show`.
fn styled(total: u64, template: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// `what [=====>    ] pos/total unit (eta)`, or a hidden bar when not `show`.
pub fn bar(total: u64, what: &str, unit: &str, show: bool) -> ProgressBar {
    let bar = styled(
        total,
        &format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}})"),
        show,
    );
    bar.set_message(what.to_string());
    bar
}

/// A spinner with elapsed seconds for work of unknown length (a Verilator build), or a hidden
/// one when not `show`. Finish it with `finish_and_clear`.
pub fn spinner(what: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner();
    s.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
    );
    s.set_message(what.to_string());
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

/// A bar over work items of unequal size: `total` is the sum of their weights, the message
/// says how many are done, and the ETA follows the weights rather than the count.
pub fn weighted_bar(total: u64, show: bool) -> ProgressBar {
    styled(total, "{msg} [{bar:40}] {percent}% ({eta})", show)
}
