//! Progress bars on stderr for long work (indicatif draws them only when stderr is a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// `what [=====>    ] pos/total unit (eta)`, or a hidden bar when not `show`.
pub fn bar(total: u64, what: &str, unit: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
