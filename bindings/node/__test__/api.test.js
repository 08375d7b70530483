'use strict'
// Every synchronous function of the public API, on a real data directory.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { docdb, tempDir, freshStore, throwsCode, buf } = require('./helpers')

test('module exports', () => {
  assert.equal(typeof docdb.open, 'function')
  assert.equal(typeof docdb.openAsync, 'function')
  assert.match(docdb.version(), /^\d+\.\d+\.\d+/)
  assert.equal(docdb._setErrorClass, undefined, 'internal hooks are not exported')
  assert.deepEqual(
    [...docdb.ERROR_CODES].sort(),
    [
      'ALREADY_EXISTS', 'CLOSED', 'CONFLICT', 'CORRUPTION', 'INTERNAL', 'INVALID_ARGUMENT',
      'INVALID_NAME', 'IO', 'LOCKED', 'MEMORY_LIMIT', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE',
      'POISONED', 'UNAVAILABLE', 'UNSUPPORTED_VERSION',
    ],
  )
  assert.throws(() => new docdb.Store(), 'no public constructor')
})

test('store: databases are created, listed, opened and dropped', (t) => {
  const { dir, store } = freshStore(t)
  assert.equal(store.path, dir)
  assert.equal(store.url, null)
  assert.equal(store.closed, false)
  assert.deepEqual(store.listDbs(), [])

  const users = store.createDb('users')
  assert.equal(users.name, 'users')
  assert.equal(typeof users.id, 'number')
  const orders = store.openOrCreateDb('orders')
  assert.equal(store.openOrCreateDb('orders').id, orders.id, 'existing db is opened')
  assert.deepEqual(
    store.listDbs().map((d) => d.name),
    ['users', 'orders'],
  )
  assert.equal(store.openDb('users').id, users.id)

  users.put(1n, buf('x'))
  // A second handle sees the same data.
  assert.deepEqual(store.openDb('users').read(1n), buf('x'))

  store.dropDb('orders')
  assert.deepEqual(store.listDbs().map((d) => d.name), ['users'])
  throwsCode(() => store.openDb('orders'), 'NOT_FOUND')
  throwsCode(() => orders.read(1n), 'CLOSED')
  // The name can be reused; the id is not.
  const again = store.createDb('orders')
  assert.notEqual(again.id, orders.id)
  assert.equal(again.len(), 0)
})

test('read: small and large documents, readInto', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  // Around the 4 KiB scratch buffer of the JavaScript read path, and a 1 MiB document.
  const sizes = [0, 1, 4095, 4096, 4097, 1 << 20]
  const docs = sizes.map((n, i) => Buffer.from(Array.from({ length: n }, (_, j) => (i * 31 + j * 7) & 0xff)))
  docs.forEach((d, i) => db.put(i, d))
  const first = db.read(2)
  docs.forEach((d, i) => assert.deepEqual(db.read(i), d, `document of ${d.length} bytes`))
  // Sizes going down and alternating (read sizes its buffer from the previous document).
  for (const i of [5, 4, 3, 2, 1, 0, 3, 1, 3, 3, 2, 4, 0]) {
    const got = db.read(i)
    assert.deepEqual(got, docs[i], `document of ${docs[i].length} bytes`)
    assert.equal(got.length, docs[i].length)
  }
  // Each read returns its own buffer: later reads do not change an earlier result.
  assert.deepEqual(first, docs[2])
  first.fill(0)
  assert.deepEqual(db.read(2), docs[2])

  const target = Buffer.alloc(8, 0xaa)
  db.put(100, buf('hello'))
  assert.equal(db.readInto(100, target), 5)
  assert.deepEqual(target, Buffer.from([...buf('hello'), 0xaa, 0xaa, 0xaa]))
  // A view's own offset is honoured.
  const backing = new Uint8Array(16)
  assert.equal(db.readInto(100, backing.subarray(4, 12)), 5)
  assert.deepEqual(Buffer.from(backing.subarray(4, 9)), buf('hello'))
  assert.equal(backing[3], 0)
  // Too small: the length is returned and nothing is copied.
  const small = Buffer.alloc(2, 0xaa)
  assert.equal(db.readInto(3, small), 4096)
  assert.deepEqual(small, Buffer.from([0xaa, 0xaa]))
  throwsCode(() => db.readInto(999, target), 'NOT_FOUND')
  throwsCode(() => db.read(999), 'NOT_FOUND')
  assert.throws(() => db.readInto(100, 'nope'), TypeError)
  assert.throws(() => db.readInto(100, new Uint16Array(4)), TypeError)
})

test('readInto: ids of both types, reads from disk, bad arguments, a closed store', (t) => {
  const dir = tempDir(t)
  const data = Buffer.from(Array.from({ length: 1500 }, (_, j) => (j * 13) & 0xff))
  let store = docdb.open(dir)
  store.createDb('r').put(7, data)
  store.close()
  // Reopened: the record cache is empty, so the first read comes from the disk and the
  // second from the cache; both copy the same verified bytes.
  store = docdb.open(dir)
  const db = store.openDb('r')
  for (const id of [7, 7n]) {
    const target = Buffer.alloc(2000, 0xee)
    assert.equal(db.readInto(id, target), 1500)
    assert.deepEqual(target.subarray(0, 1500), data)
    assert.equal(target[1500], 0xee, 'nothing is written past the document')
  }
  const exact = new Uint8Array(1500)
  assert.equal(db.readInto(7, exact), 1500)
  assert.deepEqual(Buffer.from(exact), data)
  // One byte short: the needed length comes back and the buffer is untouched.
  const short = Buffer.alloc(1499, 0x11)
  assert.equal(db.readInto(7, short), 1500)
  assert.ok(short.every((b) => b === 0x11))
  assert.equal(db.readInto(7, Buffer.alloc(0)), 1500)
  throwsCode(() => db.readInto(8, Buffer.alloc(16)), 'NOT_FOUND')
  throwsCode(() => db.readInto(2n ** 64n - 1n, Buffer.alloc(16)), 'NOT_FOUND')
  assert.throws(() => db.readInto(-1, Buffer.alloc(16)), RangeError)
  assert.throws(() => db.readInto(1.5, Buffer.alloc(16)), RangeError)
  assert.throws(() => db.readInto(Number.NaN, Buffer.alloc(16)), RangeError)
  assert.throws(() => db.readInto(2n ** 64n, Buffer.alloc(16)), RangeError)
  assert.throws(() => db.readInto('7', Buffer.alloc(16)), TypeError)
  assert.throws(() => db.readInto(7, new DataView(new ArrayBuffer(16))), TypeError)
  assert.throws(() => db.readInto(7, new ArrayBuffer(16)), TypeError)
  assert.throws(() => db.readInto(7, [0, 0]), TypeError)
  assert.throws(() => db.readInto(), TypeError)
  // A plain Node-API function (src/fast_read.rs): any receiver but a Database is refused.
  const snapshot = db.snapshot()
  for (const other of [snapshot, store, {}, Object.create(docdb.Database.prototype), undefined]) {
    assert.throws(() => db.readInto.call(other, 7, Buffer.alloc(16)), {
      name: 'TypeError',
      message: 'readInto must be called on a Database',
    })
  }
  snapshot.close()
  store.close()
  const target = Buffer.alloc(16, 0x22)
  throwsCode(() => db.readInto(7, target), 'CLOSED')
  assert.ok(target.every((b) => b === 0x22))
})

test('store: stats, checkpoint, sync', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('a')
  db.put(1, buf('one'))
  db.put(2, buf('two'))
  store.checkpoint()
  store.sync()
  const s = store.stats()
  assert.equal(s.databasesActive, 1)
  assert.equal(s.databasesTotal, 1)
  assert.equal(s.databasesOpen, 1)
  assert.equal(s.documents, 2)
  assert.equal(s.committedTxns, 2)
  assert.ok(s.logBytes > 0)
  assert.ok(s.memoryLimit > 0)
  assert.equal(s.databases.length, 1)
  assert.equal(s.databases[0].name, 'a')
  assert.equal(s.databases[0].checkpoints, 1)
})

test('database: create / read / update / put / delete / contains / len', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('docs')
  assert.equal(db.len(), 0)
  db.create(1n, buf('first'))
  const r = db.read(1n)
  assert.ok(Buffer.isBuffer(r))
  assert.equal(r.toString(), 'first')
  throwsCode(() => db.create(1n, buf('again')), 'ALREADY_EXISTS')

  db.update(1n, buf('second'))
  assert.equal(db.read(1).toString(), 'second', 'a number id is the same document')
  throwsCode(() => db.update(2n, buf('x')), 'NOT_FOUND')

  db.put(2n, new Uint8Array([0, 1, 2, 255]))
  assert.deepEqual([...db.read(2n)], [0, 1, 2, 255])
  db.put(2n, buf('replaced'))
  assert.equal(db.read(2n).toString(), 'replaced')

  // An empty document and a Uint8Array view into a larger buffer.
  db.put(3n, new Uint8Array(0))
  assert.equal(db.read(3n).length, 0)
  const big = Buffer.from('xxhelloxx')
  db.put(4n, big.subarray(2, 7))
  assert.equal(db.read(4n).toString(), 'hello')

  assert.equal(db.contains(1n), true)
  assert.equal(db.contains(99n), false)
  assert.equal(db.len(), 4)
  assert.equal(db.count(), 4)

  db.delete(1n)
  assert.equal(db.contains(1n), false)
  throwsCode(() => db.read(1n), 'NOT_FOUND')
  throwsCode(() => db.delete(1n), 'NOT_FOUND')
  assert.equal(db.len(), 3)
})

test('database: ids span the whole u64 range as bigint', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('ids')
  const max = 2n ** 64n - 1n
  db.put(0n, buf('zero'))
  db.put(max, buf('max'))
  db.put(Number.MAX_SAFE_INTEGER, buf('safe'))
  assert.equal(db.read(max).toString(), 'max')
  assert.equal(db.read(0).toString(), 'zero')
  assert.equal(db.read(BigInt(Number.MAX_SAFE_INTEGER)).toString(), 'safe')
  const snap = db.snapshot()
  assert.deepEqual(snap.ids(), [0n, BigInt(Number.MAX_SAFE_INTEGER), max])
  snap.close()
})

test('database: JSON helpers', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('json')
  db.createJSON(1, { name: 'Ada', tags: ['math'], n: 1.5 })
  assert.deepEqual(db.readJSON(1), { name: 'Ada', tags: ['math'], n: 1.5 })
  assert.equal(db.read(1).toString(), '{"name":"Ada","tags":["math"],"n":1.5}')
  throwsCode(() => db.createJSON(1, {}), 'ALREADY_EXISTS')
  db.updateJSON(1, [1, 2, 3])
  assert.deepEqual(db.readJSON(1), [1, 2, 3])
  throwsCode(() => db.updateJSON(2, 1), 'NOT_FOUND')
  db.putJSON(2, 'text')
  assert.equal(db.readJSON(2), 'text')
  db.putJSON(3, null)
  assert.equal(db.readJSON(3), null)
  assert.throws(() => db.putJSON(4, undefined), TypeError)
  assert.throws(() => db.putJSON(4, () => 1), TypeError)
  assert.equal(db.contains(4), false)
  db.put(5, buf('not json'))
  assert.throws(() => db.readJSON(5), SyntaxError)
})

test('database: batch is atomic and reports the failing index', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('batch')
  db.put(10, buf('ten'))
  const v1 = db.batch([
    { op: 'create', id: 1n, data: buf('a') },
    { op: 'put', id: 2, data: buf('b') },
    { op: 'update', id: 10n, data: buf('TEN') },
    { op: 'delete', id: 2n },
  ])
  assert.equal(typeof v1, 'number')
  assert.equal(db.read(1).toString(), 'a')
  assert.equal(db.contains(2), false, 'later ops see earlier ones')
  assert.equal(db.read(10).toString(), 'TEN')

  const e = throwsCode(
    () =>
      db.batch([
        { op: 'put', id: 20, data: buf('x') },
        { op: 'delete', id: 21 },
        { op: 'put', id: 22, data: buf('y') },
      ]),
    'NOT_FOUND',
  )
  assert.equal(e.batchIndex, 1)
  assert.equal(db.contains(20), false, 'nothing of a failed batch is applied')
  assert.equal(db.contains(22), false)

  const e2 = throwsCode(() => db.batch([{ op: 'create', id: 1, data: buf('dup') }]), 'ALREADY_EXISTS')
  assert.equal(e2.batchIndex, 0)
  assert.equal(db.read(1).toString(), 'a')

  const v2 = db.batch([{ op: 'put', id: 30, data: buf('z') }])
  assert.ok(v2 > v1, 'versions increase')
  assert.equal(db.len(), 3)
})

test('transaction(fn): commits on return, rolls back on throw', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('tx')
  const result = db.transaction((tx) => {
    tx.create(1, buf('one'))
    tx.putJSON(2, { two: 2 })
    assert.equal(tx.read(1).toString(), 'one', 'a transaction reads its own writes')
    assert.equal(db.contains(1), false, 'others do not see staged writes')
    assert.equal(tx.pending, 2)
    return 'done'
  })
  assert.equal(result, 'done')
  assert.equal(db.read(1).toString(), 'one')
  assert.deepEqual(db.readJSON(2), { two: 2 })

  assert.throws(
    () =>
      db.transaction((tx) => {
        tx.put(3, buf('three'))
        tx.delete(1)
        throw new Error('boom')
      }),
    /boom/,
  )
  assert.equal(db.contains(3), false, 'rolled back')
  assert.equal(db.contains(1), true, 'rolled back')

  // An engine error inside fn rolls back and propagates with its code.
  throwsCode(
    () =>
      db.transaction((tx) => {
        tx.put(4, buf('four'))
        tx.create(1, buf('dup'))
      }),
    'ALREADY_EXISTS',
  )
  assert.equal(db.contains(4), false)
  assert.throws(() => db.transaction('nope'), TypeError)
})

test('transaction(async fn): commits when the promise resolves, rolls back on rejection', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('atx')
  const p = db.transaction(async (tx) => {
    tx.put(1, buf('one'))
    await new Promise((r) => setTimeout(r, 5))
    tx.put(2, buf('two'))
    return 42
  })
  assert.ok(p instanceof Promise)
  assert.equal(await p, 42)
  assert.equal(db.len(), 2)

  await assert.rejects(
    db.transaction(async (tx) => {
      tx.put(3, buf('three'))
      await null
      throw new Error('async boom')
    }),
    /async boom/,
  )
  assert.equal(db.contains(3), false)
})

test('begin(): explicit commit, rollback, read-your-writes, conflicts', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('begin')
  db.put(1, buf('v1'))

  const tx = db.begin()
  assert.equal(tx.active, true)
  assert.equal(tx.contains(1), true)
  tx.update(1, buf('v2'))
  tx.createJSON(2, { a: 1 })
  assert.deepEqual(tx.readJSON(2), { a: 1 })
  tx.delete(2)
  assert.equal(tx.contains(2), false)
  throwsCode(() => tx.read(2), 'NOT_FOUND')
  throwsCode(() => tx.update(3, buf('x')), 'NOT_FOUND')
  throwsCode(() => tx.delete(3), 'NOT_FOUND')
  tx.put(3, buf('three'))
  throwsCode(() => tx.create(3, buf('x')), 'ALREADY_EXISTS')
  tx.updateJSON(3, 'three')
  const version = tx.commit()
  assert.equal(typeof version, 'number')
  assert.equal(tx.active, false)
  assert.equal(db.read(1).toString(), 'v2')
  assert.equal(db.readJSON(3), 'three')
  assert.equal(db.contains(2), false)
  throwsCode(() => tx.commit(), 'CLOSED')
  throwsCode(() => tx.put(9, buf('x')), 'CLOSED')
  throwsCode(() => tx.read(1), 'CLOSED')

  const rb = db.begin()
  rb.put(50, buf('never'))
  rb.rollback()
  throwsCode(() => rb.rollback(), 'CLOSED') // finished: CLOSED, as in every face
  throwsCode(() => rb.pending, 'CLOSED')
  throwsCode(() => rb.readVersion, 'CLOSED')
  assert.equal(rb.active, false)
  assert.equal(db.contains(50), false)
  throwsCode(() => rb.put(51, buf('x')), 'CLOSED')

  // First committer wins; the loser applies nothing.
  const a = db.begin()
  const b = db.begin()
  a.put(1, buf('from a'))
  b.put(1, buf('from b'))
  b.put(60, buf('b only'))
  a.commit()
  throwsCode(() => b.commit(), 'CONFLICT')
  assert.equal(db.read(1).toString(), 'from a')
  assert.equal(db.contains(60), false)
})

test('snapshot: isolation, iteration in ascending id order, close', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('snap')
  for (const id of [5n, 1n, 3n, 2n ** 63n]) db.put(id, buf(`doc ${id}`))
  db.putJSON(4, { four: true })
  const snap = db.snapshot()
  const version = snap.version
  assert.equal(typeof version, 'number')

  db.put(1n, buf('changed'))
  db.delete(3n)
  db.put(6n, buf('new'))

  assert.equal(snap.read(1n).toString(), 'doc 1')
  assert.equal(snap.contains(3n), true)
  assert.equal(snap.contains(6n), false)
  throwsCode(() => snap.read(6n), 'NOT_FOUND')
  assert.deepEqual(snap.readJSON(4), { four: true })
  assert.equal(snap.len(), 5)
  assert.equal(snap.count(), 5)
  assert.deepEqual(snap.ids(), [1n, 3n, 4n, 5n, 2n ** 63n])

  const entries = [...snap]
  assert.deepEqual(
    entries.map(([id]) => id),
    [1n, 3n, 4n, 5n, 2n ** 63n],
  )
  for (const [id, data] of entries) {
    assert.equal(typeof id, 'bigint')
    assert.ok(Buffer.isBuffer(data))
  }
  assert.equal(entries[0][1].toString(), 'doc 1')
  // Iterable more than once, and early exit is fine.
  for (const [id] of snap.entries()) {
    assert.equal(id, 1n)
    break
  }
  assert.equal([...snap].length, 5)
  assert.equal(snap.version, version)

  const stats = db.stats()
  assert.ok(stats.activeReaders >= 1)
  assert.equal(snap.closed, false)
  snap.close()
  snap.close()
  assert.equal(snap.closed, true, 'as Python\'s Snapshot.closed')
  throwsCode(() => snap.read(1n), 'CLOSED')
  throwsCode(() => [...snap], 'CLOSED')
  throwsCode(() => snap.version, 'CLOSED')
  assert.equal(db.stats().activeReaders, 0)

  // A fresh snapshot sees the new state.
  const now = db.snapshot()
  assert.deepEqual(now.ids(), [1n, 4n, 5n, 6n, 2n ** 63n])
  now.close()
})

test('compact reclaims dead bytes; stats and checkpoint/sync of a database', (t) => {
  const { store } = freshStore(t, { autoCompact: false, sync: 'normal' })
  const db = store.createDb('compact')
  const blob = Buffer.alloc(4096, 7)
  for (let round = 0; round < 5; round++) {
    for (let id = 0; id < 50; id++) db.put(id, blob)
  }
  const before = db.stats()
  assert.equal(before.documents, 50)
  assert.ok(before.deadBytes > 0)
  const reclaimed = db.compact()
  assert.ok(reclaimed > 0, `reclaimed ${reclaimed}`)
  const after = db.stats()
  assert.equal(after.compactions, 1)
  assert.ok(after.logBytes < before.logBytes)
  assert.deepEqual(db.read(49), blob)
  const checkpoints = db.stats().checkpoints
  db.checkpoint()
  db.sync()
  assert.equal(db.stats().checkpoints, checkpoints + 1)
  assert.equal(db.stats().name, 'compact')
})

test('open options are applied and checked', (t) => {
  const dir = tempDir(t)
  const store = docdb.open(dir, {
    sync: 'normal',
    maxDocumentSize: 10,
    memoryLimit: 1 << 20,
    dbMemoryLimit: 1 << 20,
    segmentSize: 1 << 16,
    compactionMinDeadBytes: 1024,
    compactionDeadRatio: 0.9,
    autoCompact: false,
    checkpointBytes: 1 << 20,
    indexShards: 4,
    cacheSize: 0,
    unused: undefined,
  })
  const db = store.createDb('o')
  db.put(1, Buffer.alloc(10))
  throwsCode(() => db.put(2, Buffer.alloc(11)), 'PAYLOAD_TOO_LARGE')
  assert.equal(store.stats().memoryLimit, 1 << 20)
  db.read(1)
  db.read(1)
  assert.equal(store.stats().cacheHits, 0, 'cacheSize 0 turns the cache off')
  assert.equal(store.stats().cacheBytes, 0)
  store.close()
  // With the default cache, the second read of a document is a hit.
  const cached = docdb.open(dir)
  const again = cached.openDb('o')
  again.read(1)
  again.read(1)
  const st = cached.stats()
  assert.equal(st.cacheMisses, 1)
  assert.equal(st.cacheHits, 1)
  assert.ok(st.cacheBytes > 10)
  cached.close()
  // null / undefined options mean defaults.
  docdb.open(dir, null).close()
  docdb.open(dir, undefined).close()
})

test('persistence across close and reopen', (t) => {
  const dir = tempDir(t)
  let store = docdb.open(dir)
  const db = store.createDb('keep')
  db.putJSON(1, { v: 1 })
  db.batch([
    { op: 'put', id: 2, data: buf('two') },
    { op: 'put', id: 3, data: buf('three') },
  ])
  db.transaction((tx) => tx.delete(3))
  store.createDb('dropped')
  store.dropDb('dropped')
  store.close()
  store.close() // idempotent
  assert.equal(store.closed, true)

  store = docdb.open(dir)
  assert.deepEqual(store.listDbs().map((d) => d.name), ['keep'])
  const again = store.openDb('keep')
  assert.deepEqual(again.readJSON(1), { v: 1 })
  assert.equal(again.read(2).toString(), 'two')
  assert.equal(again.contains(3), false)
  assert.equal(again.len(), 2)
  store.close()
})

test('an ES module imports every export by name', () => {
  // Node finds the names of a CommonJS module's exports by reading its source (its
  // cjs-module-lexer): `import { DocDBError } from '@docdb/node'` works only if docdb.js
  // spells its exports so that the lexer sees every one, as docdb.d.ts declares them.
  const entry = JSON.stringify(require.resolve('..'))
  const script = `import * as m from ${entry}; console.log(JSON.stringify(Object.keys(m).sort()))`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.deepEqual(JSON.parse(out), ['default', ...Object.keys(docdb)].sort())
})
