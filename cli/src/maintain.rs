//! `compact` and `backup`.

use std::path::Path;

use crate::failure::Failure;
use crate::progress::{human_bytes, Progress, Unit};
use crate::{store, Global};

pub fn compact(g: Global, dir: &Path, only: Option<&str>) -> Result<(), Failure> {
    let store = store::open(dir, false)?;
    let names: Vec<String> = match only {
        Some(name) => vec![name.to_string()],
        None => store.list_dbs()?.into_iter().map(|i| i.name).collect(),
    };
    let mut progress = Progress::new(g, "compact", Unit::Bytes, None);
    let mut report = Vec::new();
    let dbs = names
        .iter()
        .map(|n| store::database(&store, n, false))
        .collect::<Result<Vec<_>, _>>()?;
    let total = dbs
        .iter()
        .map(|db| db.stats().map(|s| s.log_bytes))
        .sum::<Result<u64, _>>()?;
    let mut done = 0;
    progress.set(0, Some(total));
    for db in &dbs {
        progress.message(db.name().to_string());
        let before = db.stats()?.log_bytes;
        let reclaimed = db.compact()?;
        done += before;
        progress.set(done, Some(total));
        report.push(format!(
            "compact: {}: {} reclaimed",
            db.name(),
            human_bytes(reclaimed)
        ));
    }
    progress.finish();
    store.close()?;
    if !g.quiet {
        for line in report {
            eprintln!("{line}");
        }
    }
    Ok(())
}

pub fn backup(g: Global, dir: &Path, dest: &Path) -> Result<(), Failure> {
    let store = store::open(dir, false)?;
    let mut progress = Progress::new(g, "backup", Unit::Bytes, None);
    let mut copied = 0;
    store.backup(dest, |done, total| {
        copied = total;
        progress.set(done, Some(total));
    })?;
    progress.finish();
    if !g.quiet {
        eprintln!(
            "backup: {} copied to {}, verified",
            human_bytes(copied),
            dest.display()
        );
    }
    Ok(())
}
