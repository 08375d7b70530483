'use strict'
// One Node client of the eight-process test (workload: README.md).
const fs = require('node:fs')
const path = require('node:path')
const assert = require('node:assert/strict')
const docdb = require('../../bindings/node')

const K = 40
const STEPS = 400

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function main() {
  const [url, wArg, syncDir] = process.argv.slice(2)
  const w = Number(wArg)
  const store = docdb.connect(url)
  const db = store.openDb('shared')
  fs.writeFileSync(path.join(syncDir, `ready.${w}`), '')
  while (!fs.existsSync(path.join(syncDir, 'go'))) sleep(5)

  const base = (w + 1) * 1_000_000
  const model = new Map()
  const tryRead = (id) => {
    try {
      return db.read(id).toString()
    } catch (e) {
      if (e.code === 'NOT_FOUND') return undefined
      throw e
    }
  }
  let increments = 0
  let conflicts = 0
  for (let i = 0; i < STEPS; i++) {
    const id = base + ((i * 7) % K)
    const value = `w${w}:${id}:${i}`
    switch (i % 8) {
      case 0:
      case 1:
      case 2:
        db.put(id, Buffer.from(value))
        model.set(id, value)
        break
      case 3:
        if (model.has(id)) {
          db.delete(id)
          model.delete(id)
        } else {
          db.create(id, Buffer.from(value))
          model.set(id, value)
        }
        break
      case 4: {
        const id2 = base + ((i * 7 + 1) % K)
        const value2 = `w${w}:${id2}:${i}`
        db.batch([
          { op: 'put', id, data: Buffer.from(value) },
          { op: 'put', id: id2, data: Buffer.from(value2) },
        ])
        model.set(id, value)
        model.set(id2, value2)
        break
      }
      case 5:
        assert.equal(tryRead(id), model.get(id), `read of ${id}`)
        break
      case 6: {
        const other = (w + 1) % 8
        const oid = (other + 1) * 1_000_000 + ((i * 7) % K)
        const got = tryRead(oid)
        assert.ok(got === undefined || got.startsWith(`w${other}:${oid}:`), `read of ${oid}: ${got}`)
        break
      }
      default:
        for (;;) {
          const tx = db.begin()
          try {
            const n = Number(tx.read(1).toString())
            tx.put(1, Buffer.from(String(n + 1)))
            tx.put(id, Buffer.from(value))
            tx.commit()
            break
          } catch (e) {
            if (e.code !== 'CONFLICT') throw e
            conflicts++
          } finally {
            if (tx.active) tx.rollback()
          }
        }
        model.set(id, value)
        increments++
    }
  }

  const seen = new Map([...db.range({ gte: base, lt: base + K })].map(([id, d]) => [Number(id), d.toString()]))
  assert.deepEqual(seen, model, "the range of this worker's ids differs from its model")
  store.close()
  console.log(
    JSON.stringify({
      worker: w,
      lang: 'node',
      model: Object.fromEntries(model),
      increments,
      conflicts,
    }),
  )
}

try {
  main()
} catch (e) {
  console.error(e)
  process.exit(1)
}
