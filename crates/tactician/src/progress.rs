//! Progress bars on stderr, hidden when stderr is not a terminal or with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar counting `total` units of `what` (e.g. "battles"), labelled `label`.
pub fn bar(label: &str, what: &str, total: u64, quiet: bool) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let template = format!(
        "{label:>10} [{{bar:40.cyan/blue}}] {{human_pos}}/{{human_len}} {what} \
         ({{per_sec}}, {{elapsed}} elapsed, eta {{eta}})"
    );
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// A bar counting bytes of input, labelled `label`, with a message for running totals.
pub fn bytes_bar(label: &str, total: u64, quiet: bool) -> ProgressBar {
    let bar = self::bar(label, "", total, quiet);
    let template = format!(
        "{label:>10} [{{bar:40.cyan/blue}}] {{binary_bytes}}/{{binary_total_bytes}} \
         ({{binary_bytes_per_sec}}, eta {{eta}}) {{msg}}"
    );
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}
