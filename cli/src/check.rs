//! `check`: verify a data directory (core's `check_dir`) and list what it found on stdout.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::failure::{Failure, EXIT_DAMAGE};
use crate::progress::{human_bytes, Progress, Unit};
use crate::Global;

pub fn check(g: Global, dir: &Path) -> Result<ExitCode, Failure> {
    crate::store::require(dir, false)?;
    let mut progress = Progress::new(g, "check", Unit::Bytes, None);
    let report = docdb::check_dir(dir, |done, total| progress.set(done, Some(total)))?;
    progress.finish();
    let mut text = String::new();
    for p in &report.problems {
        text.push_str(&format!("damage: {p}\n"));
    }
    for n in &report.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text.push_str(&format!(
        "{}: {} databases, {} segments, {} records, {} read: {}\n",
        dir.display(),
        report.databases,
        report.segments,
        report.records,
        human_bytes(report.bytes),
        match report.problems.len() {
            0 => "no damage".to_string(),
            1 => "1 problem".to_string(),
            n => format!("{n} problems"),
        }
    ));
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::io("writing to stdout", e))?;
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DAMAGE)
    })
}
