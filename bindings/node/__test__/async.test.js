'use strict'
// The Promise-returning twins run on the libuv thread pool: same results and errors as the
// synchronous calls, and the event loop keeps turning while a durable commit is fsynced.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { docdb, tempDir, freshStore, rejectsCode, buf } = require('./helpers')

test('every async twin resolves like its synchronous counterpart', async (t) => {
  const dir = tempDir(t)
  const store = await docdb.openAsync(dir, { autoCompact: false })
  const db = await store.createDbAsync('a')
  assert.ok(db instanceof docdb.Database)
  assert.equal((await store.openDbAsync('a')).id, db.id)
  assert.equal((await store.openOrCreateDbAsync('b')).name, 'b')
  await store.dropDbAsync('b')
  assert.deepEqual(store.listDbs().map((d) => d.name), ['a'])

  assert.equal(await db.createAsync(1n, buf('one')), undefined)
  const r = await db.readAsync(1n)
  assert.ok(Buffer.isBuffer(r))
  assert.equal(r.toString(), 'one')
  await db.updateAsync(1, buf('uno'))
  await db.putAsync(2, buf('two'))
  assert.equal(db.read(1).toString(), 'uno')
  assert.equal(db.read(2).toString(), 'two')
  await db.deleteAsync(2)
  assert.equal(db.contains(2), false)

  await db.createJSONAsync(3, { a: 1 })
  await db.updateJSONAsync(3, { a: 2 })
  await db.putJSONAsync(4, [4])
  assert.deepEqual(await db.readJSONAsync(3), { a: 2 })
  assert.deepEqual(await db.readJSONAsync(4), [4])
  // Argument errors are thrown synchronously, as by the raw async methods.
  assert.throws(() => db.putJSONAsync(5, undefined), TypeError)
  assert.throws(() => db.createJSONAsync(5, () => 1), TypeError)
  assert.throws(() => db.readJSONAsync('5'), TypeError)

  const v = await db.batchAsync([
    { op: 'put', id: 10, data: buf('ten') },
    { op: 'delete', id: 4 },
  ])
  assert.equal(typeof v, 'number')
  assert.equal(db.contains(4), false)
  const e = await rejectsCode(
    db.batchAsync([
      { op: 'put', id: 11, data: buf('x') },
      { op: 'update', id: 99, data: buf('x') },
    ]),
    'NOT_FOUND',
  )
  assert.equal(e.batchIndex, 1)
  assert.equal(db.contains(11), false)

  await rejectsCode(db.readAsync(99), 'NOT_FOUND')
  await rejectsCode(db.createAsync(1, buf('dup')), 'ALREADY_EXISTS')
  await rejectsCode(db.updateAsync(99, buf('x')), 'NOT_FOUND')
  await rejectsCode(db.deleteAsync(99), 'NOT_FOUND')
  await rejectsCode(store.createDbAsync('a'), 'ALREADY_EXISTS')
  await rejectsCode(store.openDbAsync('zz'), 'NOT_FOUND')
  await rejectsCode(store.dropDbAsync('zz'), 'NOT_FOUND')
  // Other options than those of the store this process has open.
  await rejectsCode(docdb.openAsync(dir, { cacheSize: 0 }), 'INVALID_ARGUMENT')

  for (let i = 0; i < 3; i++) await db.putAsync(20, Buffer.alloc(1000, i))
  assert.ok((await db.compactAsync()) >= 0)
  await db.checkpointAsync()
  await db.syncAsync()
  await store.checkpointAsync()
  await store.syncAsync()

  const tx = db.begin()
  tx.put(30, buf('thirty'))
  assert.equal(typeof (await tx.commitAsync()), 'number')
  assert.equal(db.read(30).toString(), 'thirty')
  await rejectsCode(tx.commitAsync(), 'CLOSED')

  const snap = db.snapshot()
  db.put(30, buf('changed'))
  assert.equal((await snap.readAsync(30)).toString(), 'thirty')
  assert.deepEqual(await snap.readJSONAsync(3), { a: 2 })
  snap.close()
  await rejectsCode(snap.readAsync(30), 'CLOSED')

  await store.closeAsync()
  assert.equal(store.closed, true)
  await rejectsCode(db.readAsync(1), 'CLOSED')
})

test('an async write stores the bytes as they were when it was called', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('copy')
  const data = Buffer.alloc(1 << 20, 1)
  const put = db.putAsync(1, data)
  const batch = db.batchAsync([{ op: 'put', id: 2, data }])
  data.fill(2) // the caller reuses its buffer right away
  await Promise.all([put, batch])
  assert.deepEqual(db.read(1), Buffer.alloc(1 << 20, 1))
  assert.deepEqual(db.read(2), Buffer.alloc(1 << 20, 1))
})

test('the event loop keeps turning during a durable (fsynced) commit', async (t) => {
  const { store } = freshStore(t, { sync: 'full' })
  const db = store.createDb('loop')
  // 64 MiB in one atomic batch: encoding, checksumming, writing and fsyncing it takes far
  // longer than a few turns of an idle event loop (each is microseconds).
  const chunk = Buffer.alloc(1024 * 1024, 0xab)
  const ops = Array.from({ length: 64 }, (_, i) => ({ op: 'put', id: i, data: chunk }))

  let spins = 0
  let running = true
  const spin = () => {
    spins++
    if (running) setImmediate(spin)
  }

  // Synchronous: the loop is blocked for the whole call.
  setImmediate(spin)
  const spinsBefore = spins
  db.batch(ops)
  assert.equal(spins, spinsBefore, 'no callback can run during a synchronous call')

  // Asynchronous: the loop runs many times while the commit is written and fsynced.
  const start = spins
  let settled = false
  const pending = db.batchAsync(ops).then((v) => {
    settled = true
    return v
  })
  await new Promise((r) => setImmediate(r))
  const spinsWhilePending = []
  while (!settled) {
    spinsWhilePending.push(spins)
    await new Promise((r) => setImmediate(r))
  }
  const version = await pending
  running = false
  assert.equal(typeof version, 'number')
  assert.ok(spinsWhilePending.length >= 2, `the loop turned ${spinsWhilePending.length} times before the commit resolved`)
  assert.ok(spins - start >= 2, `spins during the async commit: ${spins - start}`)
  assert.deepEqual(db.read(63), chunk)
  assert.ok(db.stats().committedTxns >= 2)
})

test('many concurrent async commits all resolve (group commit) and are readable', async (t) => {
  const { store } = freshStore(t, { sync: 'full' })
  const db = store.createDb('many')
  const writes = []
  for (let i = 0; i < 200; i++) writes.push(db.putAsync(i, buf(`doc ${i}`)))
  await Promise.all(writes)
  assert.equal(db.len(), 200)
  const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => db.readAsync(i)))
  reads.forEach((r, i) => assert.equal(r.toString(), `doc ${i}`))
  assert.equal(db.stats().committedTxns, 200)
})
