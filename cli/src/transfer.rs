//! `dump` and `load`: documents out to and in from JSON Lines (see `jsonl.rs`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::path::Path;

use docdb::{validate_name, BatchOp, Database, Error, Store};

use crate::failure::Failure;
use crate::progress::{Progress, Unit};
use crate::{jsonl, store, Global};

/// Writes every document of one database, or of all, each database as of one snapshot.
pub fn dump(g: Global, dir: &Path, only: Option<&str>) -> Result<(), Failure> {
    let store = store::open(dir, false)?;
    let dbs: Vec<Database> = match only {
        Some(name) => vec![store::database(&store, name, false)?],
        None => store
            .list_dbs()?
            .iter()
            .map(|i| store.open_db(&i.name))
            .collect::<Result<_, _>>()?,
    };
    // The counts are taken now, the snapshots a moment later: the total is an estimate.
    let total = dbs.iter().map(Database::len).sum::<Result<u64, _>>()?;
    let mut progress = Progress::new(g, "dump", Unit::Documents, Some(total));
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut line = Vec::new();
    let mut failed = None;
    for db in &dbs {
        progress.message(db.name().to_string());
        let named = only.is_none().then(|| db.name());
        db.snapshot()?.for_each(|id, doc| {
            line.clear();
            jsonl::write_line(&mut line, named, id, doc);
            if let Err(e) = out.write_all(&line) {
                failed = Some(e);
                return ControlFlow::Break(());
            }
            progress.add(1);
            ControlFlow::Continue(())
        })?;
        if let Some(e) = failed.take() {
            return Err(Failure::io("writing to stdout", e));
        }
    }
    out.flush()
        .map_err(|e| Failure::io("writing to stdout", e))?;
    progress.finish();
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A document read from the input, with the line it came from.
struct Doc {
    line: u64,
    id: u64,
    data: Vec<u8>,
}

/// Documents of one database waiting to be committed together.
struct Pending {
    db: String,
    docs: Vec<Doc>,
}

/// What has been committed so far, for the summary and for the report of a failure.
#[derive(Default)]
struct Loaded {
    documents: u64,
    commits: u64,
}

struct Loader<'a> {
    store: &'a Store,
    create: bool,
    open: HashMap<String, Database>,
    loaded: Loaded,
}

impl Loader<'_> {
    fn database(&mut self, name: &str) -> Result<Database, Failure> {
        if let Some(db) = self.open.get(name) {
            return Ok(db.clone());
        }
        let db = store::database(self.store, name, self.create)?;
        self.open.insert(name.to_string(), db.clone());
        Ok(db)
    }

    /// Commits `p` as one atomic batch; an error names the line of the failing document.
    fn commit(&mut self, p: &Pending) -> Result<(), Failure> {
        let db = self.database(&p.db)?;
        let ops: Vec<BatchOp<'_>> = p.docs.iter().map(|d| BatchOp::Put(d.id, &d.data)).collect();
        let first = p.docs.first().map_or(0, |d| d.line);
        let last = p.docs.last().map_or(0, |d| d.line);
        db.batch(&ops).map_err(|e| match e {
            Error::Batch { index, source } => {
                let line = p.docs.get(index).map_or(first, |d| d.line);
                let f = Failure::from(*source);
                Failure::new(format!("line {line}: {}", f.message()))
            }
            // Not one document (that is an `Error::Batch`): the whole batch, over what a
            // server takes in one request.
            Error::PayloadTooLarge { size, max } => Failure::new(format!(
                "lines {first} to {last}: PAYLOAD_TOO_LARGE: the batch of these documents \
                 takes {size} bytes, more than the server takes in one request ({max} bytes, \
                 its --max-frame)"
            ))
            .with_hint("commit in smaller pieces with --batch N"),
            Error::InvalidArgument(_) | Error::MemoryLimit { .. } => Failure::new(format!(
                "lines {first} to {last}: {}",
                Failure::from(e).message()
            ))
            .with_hint("commit in smaller pieces with --batch N"),
            e => Failure::new(format!(
                "lines {first} to {last}: {}",
                Failure::from(e).message()
            )),
        })?;
        self.loaded.documents += p.docs.len() as u64;
        self.loaded.commits += 1;
        Ok(())
    }
}

/// The input of a load: stdin for `-`, else the file (with its size, for progress).
struct Input {
    reader: Box<dyn Read>,
    name: String,
    size: Option<u64>,
}

impl Input {
    fn open(input: &Path) -> Result<Input, Failure> {
        if input == Path::new("-") {
            return Ok(Input {
                reader: Box::new(std::io::stdin().lock()),
                name: "stdin".into(),
                size: None,
            });
        }
        let f = File::open(input)
            .map_err(|e| Failure::io(format!("opening {}", input.display()), e))?;
        Ok(Input {
            size: f.metadata().ok().map(|m| m.len()),
            reader: Box::new(f),
            name: input.display().to_string(),
        })
    }
}

/// Reads the input line by line: `each(line number, text, bytes)` for each non-blank line.
fn lines(
    Input { reader, name, .. }: Input,
    mut each: impl FnMut(u64, &str, u64) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Failure::io(format!("reading {name}"), e))?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        let text = std::str::from_utf8(&buf)
            .map_err(|e| Failure::new(format!("line {n}: not UTF-8 text ({e})")))?;
        if !text.trim().is_empty() {
            each(n, text.trim_end_matches(['\n', '\r']), read as u64)?;
        }
    }
}

pub fn load(
    g: Global,
    dir: &Path,
    only: Option<&str>,
    input: &Path,
    batch: Option<u64>,
    create: bool,
) -> Result<(), Failure> {
    if let Some(name) = only {
        validate_name(name)?;
    }
    // The input first: a missing file must not leave a new store behind (--create).
    let input = Input::open(input)?;
    let store = store::open(dir, create)?;
    let max = store.max_document_size();
    let mut progress = Progress::new(g, "load", Unit::Bytes, input.size);
    let mut loader = Loader {
        store: &store,
        create,
        open: HashMap::new(),
        loaded: Loaded::default(),
    };
    // Without --batch every document waits for the end of the input (one group per
    // database); with it, a group is committed once it holds N documents or the next
    // line is for another database.
    let mut groups: Vec<Pending> = Vec::new();
    let result = lines(input, |n, text, bytes| {
        let entry = jsonl::parse_line(text).map_err(|e| Failure::new(format!("line {n}: {e}")))?;
        let db = match (only, entry.db) {
            (Some(o), Some(d)) if o != d => {
                return Err(Failure::new(format!(
                    "line {n}: the document is for database '{d}', not '{o}'"
                ))
                .with_hint(
                    "load a dump of that database alone, or leave out the database argument",
                ))
            }
            (Some(o), _) => o.to_string(),
            (None, Some(d)) => d,
            (None, None) => {
                return Err(Failure::new(format!("line {n}: no \"db\" field"))
                    .with_hint("name the database to load into: docdb load DIR DB"))
            }
        };
        validate_name(&db)
            .map_err(|e| Failure::new(format!("line {n}: {}", Failure::from(e).message())))?;
        if entry.doc.len() as u64 > max {
            return Err(Failure::new(format!(
                "line {n}: document {} has {} bytes, more than the maximum of {max}",
                entry.id,
                entry.doc.len()
            )));
        }
        let doc = Doc {
            line: n,
            id: entry.id,
            data: entry.doc,
        };
        match groups.last_mut() {
            Some(p) if p.db == db && batch.is_none_or(|b| (p.docs.len() as u64) < b) => {
                p.docs.push(doc)
            }
            _ => {
                if batch.is_some() {
                    if let Some(full) = groups.pop() {
                        loader.commit(&full)?;
                    }
                }
                match groups.iter_mut().find(|p| p.db == db) {
                    Some(p) => p.docs.push(doc),
                    None => groups.push(Pending {
                        db,
                        docs: vec![doc],
                    }),
                }
            }
        }
        // A full batch is committed at once: a bad line later leaves it loaded.
        if let (Some(n), Some(p)) = (batch, groups.last()) {
            if p.docs.len() as u64 >= n {
                loader.commit(p)?;
                groups.pop();
            }
        }
        progress.add(bytes);
        Ok(())
    })
    .and_then(|()| {
        if batch.is_none() {
            // Every database must be there before anything is committed.
            for p in &groups {
                loader.database(&p.db)?;
            }
        }
        for p in &groups {
            loader.commit(p)?;
        }
        Ok(())
    });
    let Loaded { documents, commits } = loader.loaded;
    if let Err(f) = result {
        progress.abandon();
        let said = match documents {
            0 => "nothing was loaded".to_string(),
            n => format!(
                "{n} document{} ({commits} commit{}) before it were loaded",
                plural(n),
                plural(commits)
            ),
        };
        return Err(f.with_hint(said));
    }
    progress.finish();
    store.close()?;
    if !g.quiet {
        eprintln!(
            "load: {documents} document{} in {commits} commit{}",
            plural(documents),
            plural(commits)
        );
    }
    Ok(())
}
