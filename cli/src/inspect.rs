//! `ls` and `stats`: what a store holds. Read-only: the store is dropped, not closed, so no
//! checkpoint is written.

use std::io::Write;
use std::path::Path;

use docdb::{DbStats, StatField, StatValue, Store, StoreStats};
use serde_json::{json, Value};

use crate::failure::Failure;
use crate::{jsonl, store};

/// Opens the store and loads every database (statistics cover loaded databases only).
fn open_all(dir: &Path) -> Result<(Store, Vec<DbStats>), Failure> {
    let store = store::open(dir, false)?;
    let mut stats = Vec::new();
    for info in store.list_dbs()? {
        stats.push(store.open_db(&info.name)?.stats()?);
    }
    Ok((store, stats))
}

fn print(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::io("writing to stdout", e))
}

/// Left-aligns the first column and right-aligns the others.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let width: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| match c {
                0 => format!("{cell:<w$}", w = width[c]),
                _ => format!("{cell:>w$}", w = width[c]),
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn ls(dir: &Path) -> Result<(), Failure> {
    let (_store, dbs) = open_all(dir)?;
    let mut rows = vec![["DATABASE", "DOCUMENTS", "LIVE_BYTES", "DEAD_BYTES"]
        .map(String::from)
        .to_vec()];
    for s in &dbs {
        rows.push(vec![
            s.name.clone(),
            s.documents.to_string(),
            s.live_bytes.to_string(),
            s.dead_bytes.to_string(),
        ]);
    }
    print(&table(&rows))
}

/// `(name, JSON value)` of every field of `s`, from core's one table of statistics.
fn fields<T>(table: &[StatField<T>], s: &T) -> Vec<(&'static str, Value)> {
    table
        .iter()
        .map(|(name, get)| {
            let v = match get(s) {
                StatValue::U64(n) => json!(n),
                StatValue::Bool(b) => json!(b),
                StatValue::Str(t) => json!(t),
            };
            (*name, v)
        })
        .collect()
}

fn db_fields(s: &DbStats) -> Vec<(&'static str, Value)> {
    fields(DbStats::FIELDS, s)
}

fn store_fields(s: &StoreStats) -> Vec<(&'static str, Value)> {
    fields(StoreStats::FIELDS, s)
}

/// A JSON object with the fields in the order given (`serde_json::Map` would sort them).
fn object(fields: Vec<(&'static str, Value)>) -> String {
    let members: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", members.join(","))
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn stats(dir: &Path, db: Option<&str>, as_json: bool) -> Result<(), Failure> {
    let (store, dbs) = match db {
        Some(name) => {
            let store = store::open(dir, false)?;
            let s = store::database(&store, name, false)?.stats()?;
            (store, vec![s])
        }
        None => open_all(dir)?,
    };
    let whole = db.is_none().then(|| store.stats()).transpose()?;
    if as_json {
        let dbs: Vec<String> = dbs.iter().map(|s| object(db_fields(s))).collect();
        let mut text = String::from("{");
        if let Some(s) = &whole {
            text.push_str(&format!("\"store\":{},", object(store_fields(s))));
        }
        text.push_str(&format!("\"databases\":[{}]}}", dbs.join(",")));
        return print(&(jsonl::pretty(&text) + "\n"));
    }
    let mut out = String::new();
    if let Some(s) = &whole {
        let mut rows = vec![vec!["STORE".to_string(), store.location()]];
        rows.extend(
            store_fields(s)
                .iter()
                .map(|(k, v)| vec![k.to_string(), cell(v)]),
        );
        out.push_str(&table(&rows));
    }
    if !dbs.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let fields: Vec<_> = dbs.iter().map(db_fields).collect();
        let mut rows = Vec::new();
        // One column per database, headed by its name.
        for (k, (name, _)) in fields[0].iter().enumerate() {
            let mut row = vec![if *name == "name" {
                "DATABASE".to_string()
            } else {
                name.to_string()
            }];
            row.extend(fields.iter().map(|f| cell(&f[k].1)));
            if *name == "name" {
                rows.insert(0, row);
            } else {
                rows.push(row);
            }
        }
        out.push_str(&table(&rows));
    }
    print(&out)
}
