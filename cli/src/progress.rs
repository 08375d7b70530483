//! Progress on stderr: a bar when stderr is a terminal, a plain line every few seconds when
//! it is not (logs, pipes) or cannot draw a bar (`TERM` unset or `dumb`), nothing with
//! `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Global;

/// Plain lines are written at most this often (and once at the end).
const LINE_EVERY: Duration = Duration::from_secs(2);

/// What is counted.
#[derive(Clone, Copy)]
pub enum Unit {
    Bytes,
    Documents,
}

pub struct Progress {
    mode: Mode,
    unit: Unit,
    label: &'static str,
    done: u64,
    total: Option<u64>,
}

enum Mode {
    Quiet,
    Bar(ProgressBar),
    Lines { last: Instant },
}

impl Progress {
    /// Starts reporting `label`'s progress; `total` may be unknown.
    pub fn new(g: Global, label: &'static str, unit: Unit, total: Option<u64>) -> Self {
        let mode = if g.quiet {
            Mode::Quiet
        } else if let Some(bar) = std::io::stderr()
            .is_terminal()
            .then(|| ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr()))
            // indicatif draws nothing on a terminal it cannot drive (TERM unset or dumb).
            .filter(|bar| !bar.is_hidden())
        {
            bar.set_style(style(unit, total.is_some()));
            bar.set_prefix(label);
            Mode::Bar(bar)
        } else {
            Mode::Lines {
                last: Instant::now(),
            }
        };
        Progress {
            mode,
            unit,
            label,
            done: 0,
            total,
        }
    }

    /// Records that `done` units of `total` are done.
    pub fn set(&mut self, done: u64, total: Option<u64>) {
        self.done = done;
        self.total = total.or(self.total);
        match &mut self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => {
                if let Some(t) = total {
                    if bar.length().is_none() {
                        bar.set_style(style(self.unit, true));
                    }
                    bar.set_length(t);
                }
                bar.set_position(done);
            }
            Mode::Lines { last } => {
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    self.line();
                }
            }
        }
    }

    pub fn add(&mut self, n: u64) {
        self.set(self.done + n, None);
    }

    /// Sets the bar's message (what is being worked on).
    pub fn message(&self, msg: String) {
        if let Mode::Bar(bar) = &self.mode {
            bar.set_message(msg);
        }
    }

    /// Ends the progress display with a final state.
    pub fn finish(self) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.finish(),
            Mode::Lines { .. } => self.line(),
        }
    }

    /// Ends the progress display after a failure: no final line.
    pub fn abandon(self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.abandon();
        }
    }

    fn line(&self) {
        let (done, total) = match self.unit {
            Unit::Bytes => (human_bytes(self.done), self.total.map(human_bytes)),
            Unit::Documents => (self.done.to_string(), self.total.map(|t| t.to_string())),
        };
        let unit = match self.unit {
            Unit::Bytes => "",
            Unit::Documents => " documents",
        };
        match (total, self.total) {
            (Some(total), Some(t)) if t > 0 => eprintln!(
                "{}: {done} of {total}{unit} ({}%)",
                self.label,
                self.done.min(t) * 100 / t
            ),
            _ => eprintln!("{}: {done}{unit}", self.label),
        }
    }
}

/// A bar once the total is known, a spinner until then.
fn style(unit: Unit, known_total: bool) -> ProgressStyle {
    let template = match (unit, known_total) {
        (Unit::Bytes, true) => "{prefix} [{bar:30}] {bytes}/{total_bytes} {percent}% {msg}",
        (Unit::Documents, true) => {
            "{prefix} [{bar:30}] {human_pos}/{human_len} documents {percent}% {msg}"
        }
        (Unit::Bytes, false) => "{prefix} {spinner} {bytes} {msg}",
        (Unit::Documents, false) => "{prefix} {spinner} {human_pos} documents {msg}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Bytes for people: `512 B`, `1.5 KiB`, `3.2 MiB`, ...
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(16 << 20), "16.0 MiB");
    }
}
