//! `get`, `put` and `del`: one document, through stdout and stdin.

use std::io::{Read, Write};
use std::path::Path;

use crate::failure::Failure;
use crate::{jsonl, store};

pub fn get(dir: &Path, db: &str, id: u64, pretty: bool) -> Result<(), Failure> {
    let store = store::open(dir, false)?;
    let doc = store::database(&store, db, false)?.read(id)?;
    let out = if pretty {
        let text = std::str::from_utf8(&doc)
            .ok()
            .filter(|t| serde_json::from_str::<&serde_json::value::RawValue>(t).is_ok())
            .ok_or_else(|| {
                Failure::new(format!("document {id} is not JSON"))
                    .with_hint("omit --pretty to get its bytes as they are")
            })?;
        let mut text = jsonl::pretty(text);
        text.push('\n');
        text.into_bytes()
    } else {
        doc
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::io("writing to stdout", e))
}

pub fn put(dir: &Path, db: &str, id: u64, file: &Path, create: bool) -> Result<(), Failure> {
    let data = if file == Path::new("-") {
        let mut data = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut data)
            .map_err(|e| Failure::io("reading stdin", e))?;
        data
    } else {
        std::fs::read(file).map_err(|e| Failure::io(format!("reading {}", file.display()), e))?
    };
    let store = store::open(dir, create)?;
    store::database(&store, db, create)?.put(id, &data)?;
    Ok(store.close()?)
}

pub fn del(dir: &Path, db: &str, id: u64) -> Result<(), Failure> {
    let store = store::open(dir, false)?;
    store::database(&store, db, false)?.delete(id)?;
    Ok(store.close()?)
}
