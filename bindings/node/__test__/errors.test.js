'use strict'
// Every error code of docs/errors.md, argument checking (TypeError / RangeError), and use
// after close: all are thrown as typed errors, none crashes the process.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { docdb, tempDir, freshStore, throwsCode, rejectsCode, buf } = require('./helpers')
const native = require('../index.js')
const { execFileSync } = require('node:child_process')
const { once } = require('node:events')
const { Worker } = require('node:worker_threads')

// Run by a separate node process: opens the directory argv[1] and prints the outcome.
const OTHER_PROCESS = `const docdb = require(${JSON.stringify(require.resolve('..'))})
try { docdb.open(process.argv[1]).close(); console.log('OK') } catch (e) { console.log(e.code, e.message) }`

// CRC-32 (IEEE), as the on-disk format uses (docs/ondisk_format.md).
function crc32(bytes) {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

test('NOT_FOUND, ALREADY_EXISTS, CONFLICT from real operations', (t) => {
  const { store } = freshStore(t)
  throwsCode(() => store.openDb('missing'), 'NOT_FOUND')
  throwsCode(() => store.dropDb('missing'), 'NOT_FOUND')
  const db = store.createDb('x')
  throwsCode(() => store.createDb('x'), 'ALREADY_EXISTS')
  throwsCode(() => db.read(1), 'NOT_FOUND')
  db.put(1, buf('a'))
  throwsCode(() => db.create(1, buf('b')), 'ALREADY_EXISTS')
  const a = db.begin()
  a.put(1, buf('a2'))
  db.put(1, buf('outside'))
  const e = throwsCode(() => a.commit(), 'CONFLICT')
  assert.match(e.message, /conflict/)
  assert.equal(e.batchIndex, undefined)
})

test('MEMORY_LIMIT: a write over the per-database cap applies nothing', (t) => {
  const { store } = freshStore(t, { dbMemoryLimit: 64 * 1024 })
  const db = store.createDb('m')
  const tx = db.begin()
  throwsCode(() => tx.put(1, Buffer.alloc(128 * 1024)), 'MEMORY_LIMIT')
  tx.rollback()
  // Index entries count too: a batch of many small documents goes over the cap.
  const ops = Array.from({ length: 20000 }, (_, i) => ({ op: 'put', id: i, data: buf('.') }))
  throwsCode(() => db.batch(ops), 'MEMORY_LIMIT')
  assert.equal(db.len(), 0, 'nothing of the batch was applied')
  db.put(1, buf('small writes still work'))
  assert.equal(db.len(), 1)
})

test('PAYLOAD_TOO_LARGE, INVALID_NAME, INVALID_ARGUMENT', (t) => {
  const { store } = freshStore(t, { maxDocumentSize: 100 })
  const db = store.createDb('p')
  throwsCode(() => db.put(1, Buffer.alloc(101)), 'PAYLOAD_TOO_LARGE')
  const e = throwsCode(
    () => db.batch([{ op: 'put', id: 1, data: buf('ok') }, { op: 'put', id: 2, data: Buffer.alloc(101) }]),
    'PAYLOAD_TOO_LARGE',
  )
  assert.equal(e.batchIndex, 1)
  for (const name of ['', 'has space', '.hidden', 'x'.repeat(65), 'slash/name', 'ünï']) {
    throwsCode(() => store.createDb(name), 'INVALID_NAME')
    throwsCode(() => store.openDb(name), 'INVALID_NAME')
  }
  const dir = tempDir(t)
  throwsCode(() => docdb.open(dir, { indexShards: 3 }), 'INVALID_ARGUMENT')
  throwsCode(() => docdb.open(dir, { maxDocumentSize: 0 }), 'INVALID_ARGUMENT')
  throwsCode(() => docdb.open(dir, { compactionDeadRatio: 2 }), 'INVALID_ARGUMENT')
})

test('LOCKED: another process is refused while the store is open', (t) => {
  const dir = tempDir(t)
  const first = docdb.open(dir)
  const other = () =>
    execFileSync(process.execPath, ['-e', OTHER_PROCESS, dir], { encoding: 'utf8' }).trim()
  const out = other()
  assert.ok(out.startsWith('LOCKED') && out.includes(dir), out)
  first.close()
  assert.equal(other(), 'OK')
})

test('a second open in this process shares the open store; close releases one handle', (t) => {
  const dir = tempDir(t)
  const first = docdb.open(dir)
  const second = docdb.open(dir)
  const a = first.createDb('shared')
  const b = second.openDb('shared')
  a.put(1, buf('from a'))
  assert.equal(b.read(1).toString(), 'from a')
  throwsCode(() => docdb.open(dir, { sync: 'normal' }), 'INVALID_ARGUMENT')
  first.close()
  assert.equal(first.closed, true)
  assert.equal(second.closed, false)
  throwsCode(() => first.listDbs(), 'CLOSED')
  b.put(2, buf('still open'))
  second.close()
  throwsCode(() => b.read(2), 'CLOSED')
})

test('worker threads share the store the main thread has open', async (t) => {
  const dir = tempDir(t)
  const store = docdb.open(dir)
  const db = store.createDb('w')
  db.put(1, buf('main'))
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     const docdb = require(workerData.module)
     const store = docdb.open(workerData.dir)
     const db = store.openDb('w')
     const seen = db.read(1).toString()
     db.put(2, Buffer.from('worker'))
     store.close()
     parentPort.postMessage(seen)`,
    { eval: true, workerData: { dir, module: require.resolve('..') } },
  )
  const [seen] = await once(worker, 'message')
  assert.equal(seen, 'main')
  assert.equal(db.read(2).toString(), 'worker', "the main thread sees the worker's write")
  store.close()
})

test('open of an empty path is INVALID_ARGUMENT and creates nothing', (t) => {
  const dir = tempDir(t)
  const before = process.cwd()
  process.chdir(dir)
  try {
    throwsCode(() => docdb.open(''), 'INVALID_ARGUMENT')
    assert.deepEqual(fs.readdirSync(dir), [])
  } finally {
    process.chdir(before)
  }
})

test("core's tables: every error kind, statistic and option reaches this face", (t) => {
  const tables = native._coreTables()
  // A kind added to core fails here until DocDBError carries it.
  for (const code of tables.errorCodes) {
    assert.ok(docdb.ERROR_CODES.includes(code), code)
    const e = throwsCode(() => native._throwSample(code), code)
    assert.ok(e instanceof docdb.DocDBError)
    // Only UNAVAILABLE carries outcomeUnknown (the sample's request may have been applied).
    assert.equal(e.outcomeUnknown, code === 'UNAVAILABLE' ? true : undefined, code)
  }
  const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
  const { store } = freshStore(t)
  const db = store.createDb('t')
  assert.deepEqual(Object.keys(db.stats()), tables.dbStatsFields.map(camel))
  const storeKeys = Object.keys(store.stats()).filter((k) => k !== 'databases')
  assert.deepEqual(storeKeys, tables.storeStatsFields.map(camel))
  // Every option of core is a known key: a wrong type names the option instead of
  // reporting an unknown one.
  for (const name of tables.optionNames) {
    assert.throws(() => docdb.open(tempDir(t), { [camel(name)]: Symbol('x') }), (e) =>
      e instanceof TypeError && e.message.includes(`options.${camel(name)}`),
    )
  }
})

test('CORRUPTION and UNSUPPORTED_VERSION from damaged files', (t) => {
  const dir = tempDir(t)
  const store = docdb.open(dir)
  store.createDb('c').put(1, buf('x'))
  store.close()
  const catalog = path.join(dir, 'CATALOG')
  const good = fs.readFileSync(catalog)
  assert.equal(good.subarray(0, 8).toString(), 'DOCDBCAT')

  const flipped = Buffer.from(good)
  flipped[flipped.length - 6] ^= 0x40 // inside the entries: the CRC no longer matches
  fs.writeFileSync(catalog, flipped)
  const e = throwsCode(() => docdb.open(dir), 'CORRUPTION')
  assert.ok(e.message.includes('CATALOG'))

  const newer = Buffer.from(good)
  newer.writeUInt32LE(99, 8)
  newer.writeUInt32LE(crc32(newer.subarray(0, newer.length - 4)), newer.length - 4)
  fs.writeFileSync(catalog, newer)
  throwsCode(() => docdb.open(dir), 'UNSUPPORTED_VERSION')

  fs.writeFileSync(catalog, good)
  const again = docdb.open(dir)
  assert.equal(again.openDb('c').read(1).toString(), 'x')
  again.close()
})

test('IO: the operating system refuses', (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'a-file')
  fs.writeFileSync(file, 'not a directory')
  throwsCode(() => docdb.open(path.join(file, 'store')), 'IO')
})

test('every ErrorKind maps to its docs/errors.md code, with batchIndex', () => {
  for (const code of docdb.ERROR_CODES) {
    throwsCode(() => native._throwSample(code), code)
    if (code === 'INTERNAL') continue
    const e = throwsCode(() => native._throwSample(code, 3), code)
    assert.equal(e.batchIndex, 3)
  }
  // The codes in docs/errors.md are exactly ERROR_CODES.
  const table = fs.readFileSync(path.join(__dirname, '../../../docs/errors.md'), 'utf8')
  const documented = [...table.matchAll(/\| `'([A-Z_]+)'`/g)].map((m) => m[1])
  assert.deepEqual(documented.sort(), [...docdb.ERROR_CODES].sort())
})

test('a panic inside the engine is an INTERNAL error, not a crash', async () => {
  const e = throwsCode(() => native._panic(), 'INTERNAL')
  assert.match(e.message, /deliberate test panic/)
  await rejectsCode(native._panicAsync(), 'INTERNAL')
})

test('wrong argument types are TypeError, bad values RangeError', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('args')
  db.put(1, buf('x'))
  const typeErr = (fn, re) => assert.throws(fn, (e) => e instanceof TypeError && !(e instanceof docdb.DocDBError) && (!re || re.test(e.message)))
  const rangeErr = (fn) => assert.throws(fn, (e) => e instanceof RangeError && e.code === 'ERR_OUT_OF_RANGE')

  for (const id of ['1', null, undefined, {}, [], true, Symbol('s')]) {
    typeErr(() => db.read(id), /id must be a bigint/)
    typeErr(() => db.put(id, buf('x')))
    typeErr(() => db.contains(id))
  }
  for (const id of [-1, 1.5, NaN, Infinity, 2 ** 53, -1n, 2n ** 64n]) {
    rangeErr(() => db.read(id))
    rangeErr(() => db.delete(id))
  }
  for (const data of ['text', 42, null, undefined, {}, [1, 2], new Uint16Array(2), new ArrayBuffer(4), new DataView(new ArrayBuffer(2))]) {
    typeErr(() => db.put(2, data), /data must be a Buffer or Uint8Array/)
    typeErr(() => db.create(2, data))
    typeErr(() => db.update(1, data))
  }
  assert.equal(db.contains(2), false)
  for (const name of [1, null, undefined, {}, Buffer.from('x')]) {
    typeErr(() => store.createDb(name), /name must be a string/)
    typeErr(() => store.openDb(name))
    typeErr(() => store.dropDb(name))
  }
  typeErr(() => docdb.open(42))
  typeErr(() => docdb.open(tempDir(t), 'full'), /options must be an object/)
  typeErr(() => docdb.open(tempDir(t), { syncc: 'full' }), /unknown option 'syncc'/)
  typeErr(() => docdb.open(tempDir(t), { sync: true }))
  typeErr(() => docdb.open(tempDir(t), { autoCompact: 1 }))
  typeErr(() => docdb.open(tempDir(t), { memoryLimit: '1' }))
  // A bad value of the right type is the engine's INVALID_ARGUMENT, as in every face.
  throwsCode(() => docdb.open(tempDir(t), { sync: 'sometimes' }), 'INVALID_ARGUMENT')
  rangeErr(() => docdb.open(tempDir(t), { memoryLimit: -5 }))

  typeErr(() => db.batch('ops'), /ops must be an array/)
  typeErr(() => db.batch([null]), /ops\[0\] must be an object/)
  typeErr(() => db.batch([{ id: 1, data: buf('x') }]), /ops\[0\]\.op/)
  typeErr(() => db.batch([{ op: 'put', data: buf('x') }]), /ops\[0\]\.id/)
  typeErr(() => db.batch([{ op: 'put', id: 1 }]), /ops\[0\]\.data/)
  assert.equal(throwsCode(() => db.batch([{ op: 'put', id: 1, data: buf('x') }, { op: 'upsert', id: 1, data: buf('x') }]), 'INVALID_ARGUMENT').batchIndex, 1)
  rangeErr(() => db.batch([{ op: 'delete', id: -1 }]))
  assert.equal(db.batch([]) >= 0, true, 'an empty batch is fine')

  const tx = db.begin()
  typeErr(() => tx.put('a', buf('x')))
  typeErr(() => tx.put(1, 'x'))
  rangeErr(() => tx.read(-2))
  tx.rollback()
  const snap = db.snapshot()
  typeErr(() => snap.read('1'))
  snap.close()

  // Async twins reject synchronously-detected argument errors the same way.
  typeErr(() => db.readAsync('1'))
  typeErr(() => db.putAsync(1, 'x'))
  assert.equal(db.read(1).toString(), 'x', 'nothing was changed by bad calls')
})

test('CLOSED: every handle after store.close(), never a crash', async (t) => {
  const dir = tempDir(t)
  const store = docdb.open(dir)
  const db = store.createDb('c')
  db.put(1, buf('x'))
  const snap = db.snapshot()
  const cursor = snap.scan()
  const tx = db.begin()
  tx.put(2, buf('y'))
  store.close()
  assert.equal(store.closed, true)

  const sync = [
    () => store.createDb('d'),
    () => store.openDb('c'),
    () => store.openOrCreateDb('c'),
    () => store.dropDb('c'),
    () => store.listDbs(),
    () => store.stats(),
    () => store.checkpoint(),
    () => store.sync(),
    () => db.create(3, buf('z')),
    () => db.read(1),
    () => db.update(1, buf('z')),
    () => db.put(1, buf('z')),
    () => db.delete(1),
    () => db.contains(1),
    () => db.len(),
    () => db.batch([{ op: 'put', id: 1, data: buf('z') }]),
    () => db.begin(),
    () => db.snapshot(),
    () => db.compact(),
    () => db.checkpoint(),
    () => db.sync(),
    () => db.stats(),
    () => db.readJSON(1),
    () => db.transaction(() => 1),
    () => snap.read(1),
    () => snap.contains(1),
    () => snap.len(),
    () => snap.ids(),
    () => [...snap],
    () => cursor.next(),
    () => tx.read(1),
    () => tx.commit(),
  ]
  for (const [i, fn] of sync.entries()) {
    try {
      fn()
      assert.fail(`call #${i} (${fn}) did not throw`)
    } catch (e) {
      assert.ok(e instanceof docdb.DocDBError, `call #${i} (${fn}): ${e}`)
      assert.equal(e.code, 'CLOSED', `call #${i} (${fn}): ${e.message}`)
    }
  }
  store.close() // still idempotent
  await rejectsCode(db.readAsync(1), 'CLOSED')
  await rejectsCode(db.putAsync(1, buf('z')), 'CLOSED')
  await rejectsCode(db.batchAsync([{ op: 'delete', id: 1 }]), 'CLOSED')
  await rejectsCode(db.compactAsync(), 'CLOSED')
  await rejectsCode(store.openDbAsync('c'), 'CLOSED')
  await rejectsCode(store.syncAsync(), 'CLOSED')
  await store.closeAsync()

  // The data written before close is intact.
  const reopened = docdb.open(dir)
  assert.equal(reopened.openDb('c').read(1).toString(), 'x')
  assert.equal(reopened.openDb('c').contains(2), false, 'the unfinished transaction was not applied')
  reopened.close()
})
