'use strict'
// Binding overhead from Node.js, run by `docdb-bench --node NODE`.
//
// usage: node bindings.js DIR DOCS READS COMMITS
//
// Loads DOCS 1 KiB documents, then times READS random point reads (warm: one untimed pass
// over the same ids first) and COMMITS single-document durable commits through the
// synchronous API. Prints one line per figure: "STORE WORKLOAD OPS_PER_SEC". No Node peer:
// node:sqlite needs Node >= 22.5 and native peers would need node-gyp builds.

const crypto = require('node:crypto')
const path = require('node:path')
const docdb = require(path.join(__dirname, '..', 'bindings', 'node', 'docdb.js'))

function rate(n, f) {
  const t = process.hrtime.bigint()
  f()
  const s = Number(process.hrtime.bigint() - t) / 1e9
  return n / Math.max(s, 1e-9)
}

function main() {
  const [dir, docsS, readsS, commitsS] = process.argv.slice(2)
  const docs = Number(docsS)
  const reads = Number(readsS)
  const commits = Number(commitsS)
  // A small deterministic generator (xorshift32): the same ids on every run.
  let x = 11
  const ids = []
  for (let i = 0; i < reads; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    ids.push((x >>> 0) % docs)
  }
  const store = docdb.open(path.join(dir, 'node-docdb'))
  const db = store.createDb('bench')
  const tx = db.begin()
  for (let i = 0; i < docs; i++) tx.put(i, crypto.randomBytes(1024))
  tx.commit()
  const readAll = () => {
    for (const id of ids) db.read(id)
  }
  readAll()
  console.log('node-docdb read', rate(ids.length, readAll))
  const payload = crypto.randomBytes(1024)
  console.log(
    'node-docdb commit',
    rate(commits, () => {
      for (let i = 0; i < commits; i++) db.put(docs + i, payload)
    }),
  )
  store.close()
}

main()
