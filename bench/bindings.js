'use strict'
// Binding overhead from Node.js, run by `docdb-bench --node NODE`.
//
// usage: node bindings.js DIR DOCS READS COMMITS
//
// Loads DOCS 1 KiB documents, then times READS random point reads (warm: one untimed pass
// over the same ids first) and COMMITS single-document durable commits through the
// synchronous API, for DocDB and for the Node peers of bench/package.json (installed into
// bench/node_modules by `make bench`): lmdb-js (durable commits: `overlappingSync` off) and
// better-sqlite3 (WAL, synchronous=FULL, prepared statements). Prints one line per figure:
// "STORE WORKLOAD OPS_PER_SEC". Two read contracts are measured for each of DocDB and
// lmdb-js: an owned Buffer per read (`read`, `get`), and bytes valid until the caller's
// next read (`readInto` into one reused buffer, `getBinaryFast` into lmdb-js's own).

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const docdb = require(path.join(__dirname, '..', 'bindings', 'node', 'docdb.js'))

const DOC = 1024

function rate(n, f) {
  const t = process.hrtime.bigint()
  f()
  const s = Number(process.hrtime.bigint() - t) / 1e9
  return n / Math.max(s, 1e-9)
}

/** Times `read(id)` over `ids` after one untimed pass and prints it as STORE's reads. */
function reads(store, ids, read) {
  const all = () => {
    for (const id of ids) read(id)
  }
  all()
  console.log(store, 'read', rate(ids.length, all))
}

function commits(store, n, put) {
  console.log(store, 'commit', rate(n, () => put(n)))
}

function benchDocdb(dir, docs, ids, n) {
  const store = docdb.open(dir)
  const db = store.createDb('bench')
  const tx = db.begin()
  for (let i = 0; i < docs; i++) tx.put(i, crypto.randomBytes(DOC))
  tx.commit()
  reads('node-docdb', ids, (id) => db.read(id))
  const target = Buffer.alloc(4096)
  reads('node-docdb-into', ids, (id) => db.readInto(id, target))
  const payload = crypto.randomBytes(DOC)
  commits('node-docdb', n, (n) => {
    for (let i = 0; i < n; i++) db.put(docs + i, payload)
  })
  store.close()
}

function benchLmdb(dir, docs, ids, n) {
  const { open } = require('lmdb')
  // uint32 keys are lmdb-js's cheapest; every commit is flushed before putSync returns.
  const db = open({ path: dir, encoding: 'binary', keyEncoding: 'uint32', overlappingSync: false })
  db.transactionSync(() => {
    for (let i = 0; i < docs; i++) db.put(i, crypto.randomBytes(DOC))
  })
  reads('node-lmdb', ids, (id) => db.get(id))
  reads('node-lmdb-fast', ids, (id) => db.getBinaryFast(id))
  const payload = crypto.randomBytes(DOC)
  commits('node-lmdb', n, (n) => {
    for (let i = 0; i < n; i++) db.putSync(docs + i, payload)
  })
  db.close()
}

function benchSqlite(dir, docs, ids, n) {
  const Database = require('better-sqlite3')
  const conn = new Database(path.join(dir, 'sqlite.db'))
  conn.pragma('journal_mode = WAL')
  conn.pragma('synchronous = FULL')
  conn.exec('CREATE TABLE docs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)')
  const insert = conn.prepare('INSERT OR REPLACE INTO docs VALUES (?, ?)')
  conn.transaction(() => {
    for (let i = 0; i < docs; i++) insert.run(i, crypto.randomBytes(DOC))
  })()
  const select = conn.prepare('SELECT data FROM docs WHERE id = ?').pluck()
  reads('node-sqlite', ids, (id) => select.get(id))
  const payload = crypto.randomBytes(DOC)
  // Autocommit: each statement is one durable transaction.
  commits('node-sqlite', n, (n) => {
    for (let i = 0; i < n; i++) insert.run(docs + i, payload)
  })
  conn.close()
}

function main() {
  const [dir, docsS, readsS, commitsS] = process.argv.slice(2)
  const docs = Number(docsS)
  const n = Number(readsS)
  const commitCount = Number(commitsS)
  // A small deterministic generator (xorshift32): the same ids on every run.
  let x = 11
  const ids = []
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    ids.push((x >>> 0) % docs)
  }
  for (const [name, f] of [
    ['docdb', benchDocdb],
    ['lmdb', benchLmdb],
    ['better-sqlite3', benchSqlite],
  ]) {
    const sub = path.join(dir, `node-${name}`)
    fs.mkdirSync(sub)
    try {
      f(sub, docs, ids, commitCount)
    } catch (e) {
      // A peer that is not installed (bench-smoke does not install them): report the others.
      if (name === 'docdb' || e.code !== 'MODULE_NOT_FOUND') throw e
      console.error(`# ${name} skipped: ${e.message.split('\n')[0]}`)
    }
  }
}

main()
