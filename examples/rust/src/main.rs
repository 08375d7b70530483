//! A tiny notes store: creates, edits and lists notes in a DocDB data directory, then
//! reopens it to show the notes persisted. Usage: `notes <data-dir>`.

use docdb_core::{BatchOp, Options, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "notes-data".into());
    let store = Store::open(&dir, Options::default())?;
    let notes = store.open_or_create_db("notes")?;

    let next_id = notes.snapshot()?.ids()?.last().map_or(1, |id| id + 1);
    notes.create(next_id, format!("note #{next_id}: buy milk").as_bytes())?;
    notes.batch(&[
        BatchOp::Put(next_id + 1, b"call Ada"),
        BatchOp::Put(next_id + 2, b"water the plants"),
    ])?;

    let mut tx = notes.begin()?;
    tx.update(next_id + 1, b"call Ada about the engine")?;
    tx.delete(next_id + 2)?;
    tx.commit()?;
    store.close()?;

    // Reopen: everything committed is still there.
    let store = Store::open(&dir, Options::default())?;
    let notes = store.open_db("notes")?;
    println!("notes in {dir}:");
    for item in notes.snapshot()?.scan()? {
        let (id, text) = item?;
        println!("  {id:>4}  {}", String::from_utf8_lossy(&text));
    }
    let stats = notes.stats()?;
    println!(
        "{} notes, {} log bytes, {} commits this session",
        stats.documents, stats.log_bytes, stats.committed_txns
    );
    store.close()?;
    Ok(())
}
