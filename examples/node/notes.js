#!/usr/bin/env node
'use strict'
// A tiny notes store on DocDB, the Node demo: adds notes (JSON documents), edits them in a
// transaction, lists them from a snapshot, and shows that they persist across runs.
// Usage: node examples/node/notes.js <data-dir>      (run it twice to see notes persist)
const path = require('node:path')
const docdb = require(path.join(__dirname, '../../bindings/node'))

async function main() {
  const dir = process.argv[2] || 'notes-data'
  const store = await docdb.openAsync(dir)
  const notes = store.openOrCreateDb('notes')

  // Ids are u64 (bigint); continue after the highest one.
  const snap = notes.snapshot()
  const ids = snap.ids()
  snap.close()
  const next = ids.length ? ids[ids.length - 1] + 1n : 1n

  // Plain writes are durable (fsynced) when they return; the async twins run off the
  // event loop.
  await notes.createJSONAsync(next, { text: 'buy milk', done: false, at: new Date().toISOString() })
  notes.batch([
    { op: 'put', id: next + 1n, data: Buffer.from(JSON.stringify({ text: 'call Ada', done: false })) },
    { op: 'put', id: next + 2n, data: Buffer.from(JSON.stringify({ text: 'water the plants', done: false })) },
  ])

  // All or nothing: mark one done, delete another.
  notes.transaction((tx) => {
    const note = tx.readJSON(next + 1n)
    tx.updateJSON(next + 1n, { ...note, text: 'call Ada about the engine', done: true })
    tx.delete(next + 2n)
  })

  // Errors carry a stable code.
  try {
    notes.createJSON(next, { text: 'duplicate' })
  } catch (e) {
    if (!(e instanceof docdb.DocDBError) || e.code !== 'ALREADY_EXISTS') throw e
    console.log(`expected error: ${e.code}: ${e.message}`)
  }

  console.log(`notes in ${dir}:`)
  const view = notes.snapshot()
  for (const [id, data] of view) {
    const note = JSON.parse(data.toString())
    console.log(`  ${String(id).padStart(4)}  [${note.done ? 'x' : ' '}] ${note.text}`)
  }
  view.close()
  const stats = notes.stats()
  console.log(`${stats.documents} notes, ${stats.logBytes} log bytes, ${stats.committedTxns} commits this run (DocDB ${docdb.version()})`)
  await store.closeAsync()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
