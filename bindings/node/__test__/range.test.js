'use strict'
// Ordered ranges by id and their counts: Snapshot, Database and Transaction .range().
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { docdb, freshStore, throwsCode, buf } = require('./helpers')

const doc = (i) => buf(`doc ${i}`)

function fill(db, ids) {
  db.batch([...ids].map((id) => ({ op: 'put', id, data: doc(id) })))
}

/** The ids of `pairs`, checking that each document is the one written for its id. */
function idsOf(pairs) {
  return [...pairs].map(([id, data]) => {
    assert.equal(typeof id, 'bigint')
    assert.deepEqual(data, doc(id))
    return Number(id)
  })
}

async function idsOfAsync(pairs) {
  const out = []
  for await (const [id, data] of pairs) {
    assert.deepEqual(data, doc(id))
    out.push(Number(id))
  }
  return out
}

const step = (from, to, by) => Array.from({ length: Math.ceil((to - from) / by) }, (_, i) => from + i * by)
const EVENS = step(0, 100, 2)

test('range bounds: gte/gt/lte/lt, open ends, empty ranges', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, EVENS)
  const snap = db.snapshot()
  t.after(() => snap.close())
  assert.deepEqual(idsOf(snap.range()), EVENS)
  assert.deepEqual(idsOf(snap.range({})), EVENS)
  assert.deepEqual(idsOf(snap.range({ gte: 10, lt: 20 })), [10, 12, 14, 16, 18])
  assert.deepEqual(idsOf(snap.range({ gt: 10, lte: 20 })), [12, 14, 16, 18, 20])
  assert.deepEqual(idsOf(snap.range({ gte: 10n, lte: 20n })), [10, 12, 14, 16, 18, 20])
  assert.deepEqual(idsOf(snap.range({ lt: 5 })), [0, 2, 4])
  assert.deepEqual(idsOf(snap.range({ gt: 95 })), [96, 98])
  assert.deepEqual(idsOf(snap.range({ gte: 20, lt: 20 })), [])
  assert.deepEqual(idsOf(snap.range({ gte: 30, lte: 10 })), [])
  assert.deepEqual(idsOf(snap.range({ gt: 2n ** 64n - 1n })), [])
  assert.deepEqual(idsOf(snap.range({ gte: 10, lt: 20, undefinedIsIgnored: undefined })), [
    10, 12, 14, 16, 18,
  ])
  assert.deepEqual(idsOf(db.range({ gte: 10, lt: 20 })), [10, 12, 14, 16, 18])
  assert.deepEqual(
    snap.range({ gte: 96 }).toArray().map(([id]) => id),
    [96n, 98n],
  )
})

test('range: reverse and limit', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, EVENS)
  assert.deepEqual(idsOf(db.range({ reverse: true, limit: 3 })), [98, 96, 94])
  assert.deepEqual(idsOf(db.range({ gte: 10, lt: 20, reverse: true })), [18, 16, 14, 12, 10])
  assert.deepEqual(idsOf(db.range({ gte: 10, lt: 20, limit: 2 })), [10, 12])
  assert.deepEqual(idsOf(db.range({ gte: 10, lt: 20, reverse: true, limit: 2 })), [18, 16])
  assert.deepEqual(idsOf(db.range({ limit: 0 })), [])
  assert.deepEqual(idsOf(db.range({ reverse: false })), EVENS)
})

test('keyset paging forward and backward visits every document once', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  const all = step(1, 1000, 3)
  fill(db, all)
  let seen = []
  let last
  for (;;) {
    const page = idsOf(db.range(last === undefined ? { limit: 50 } : { gt: last, limit: 50 }))
    if (page.length === 0) break
    assert.ok(page.length <= 50)
    seen = seen.concat(page)
    last = page[page.length - 1]
  }
  assert.deepEqual(seen, all)

  seen = []
  last = undefined
  for (;;) {
    const options = { reverse: true, limit: 50 }
    if (last !== undefined) options.lt = last
    const page = await idsOfAsync(db.range(options))
    if (page.length === 0) break
    seen = seen.concat(page)
    last = page[page.length - 1]
  }
  assert.deepEqual(seen, [...all].reverse())
})

test('count of a range', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, EVENS)
  assert.equal(db.count(), 50)
  assert.equal(db.count({ gte: 10, lt: 20 }), 5)
  assert.equal(db.count({ gt: 89 }), 5)
  assert.equal(db.count({ lte: 0 }), 1)
  assert.equal(db.count({ gte: 10, lt: 20, limit: 3 }), 3)
  assert.equal(db.count({ gte: 20, lte: 10 }), 0)
  assert.equal(db.count({ reverse: true }), 50)
  const snap = db.snapshot()
  db.delete(10)
  assert.equal(snap.count({ gte: 10, lt: 20 }), 5)
  assert.equal(db.count({ gte: 10, lt: 20 }), 4)
  assert.equal(snap.count({ limit: 7 }), 7)
  assert.equal(snap.count(), snap.len())
  snap.close()
})

test('count of a range in a transaction sees its staged writes and deletes', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, EVENS)
  const tx = db.begin()
  assert.equal(tx.count(), 50)
  assert.equal(tx.count({ gte: 10, lt: 20 }), 5)
  tx.delete(10)
  tx.delete(12)
  tx.put(11, buf('staged'))
  tx.put(14, buf('replaced'))
  tx.create(101, buf('beyond'))
  db.delete(16)
  assert.equal(tx.count({ gte: 10, lt: 20 }), 4, 'two deleted, one added, one replaced; its snapshot kept 16')
  assert.equal(tx.count({ gt: 10, lte: 12 }), 1)
  assert.equal(tx.count({ gte: 98 }), 2)
  assert.equal(tx.count(), 50 - 2 + 2)
  assert.equal(tx.count({ gte: 10, lt: 20, limit: 3 }), 3)
  assert.equal(tx.count({ gte: 10, lt: 20, reverse: true, limit: 2 }), 2)
  assert.equal(tx.count({ limit: 0 }), 0)
  assert.equal(tx.count({ gte: 20, lte: 10 }), 0)
  assert.equal(tx.count({ gte: 10, lt: 20 }), [...tx.range({ gte: 10, lt: 20 })].length)
  assert.equal(db.count({ gte: 10, lt: 20 }), 4, 'staged writes are not seen outside')
  tx.commit()
  assert.equal(db.count({ gte: 10, lt: 20 }), 3)
  throwsCode(() => tx.count(), 'CLOSED')
  const live = db.begin()
  store.close()
  throwsCode(() => live.count(), 'CLOSED')
})

test('a range reads its snapshot; async iteration gives the same documents', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 10, 1))
  const snap = db.snapshot()
  const r = snap.range({ gte: 2, lt: 8 })
  db.delete(3)
  db.put(4, buf('changed'))
  assert.deepEqual(idsOf(r), [2, 3, 4, 5, 6, 7])
  assert.deepEqual(idsOf(r), [], 'a range is one pass')
  assert.deepEqual(await idsOfAsync(snap.range({ gte: 2, lt: 8 })), [2, 3, 4, 5, 6, 7])
  // A range holds its own view: closing its snapshot does not end it (as in C and Go).
  const outliving = snap.range({ gte: 7 })[Symbol.iterator]()
  assert.equal(outliving.next().value[0], 7n)
  snap.close()
  assert.deepEqual([...{ [Symbol.iterator]: () => outliving }].map(([id]) => Number(id)), [8, 9])
  // Database.range takes its own snapshot when called and holds it while iterating.
  const later = db.range({ lt: 5 })
  db.delete(0)
  db.put(1, buf('later'))
  assert.deepEqual(
    [...later].map(([id, data]) => [Number(id), data.toString()]),
    [[0, 'doc 0'], [1, 'doc 1'], [2, 'doc 2'], [4, 'changed']],
  )
  const asyncLater = db.range({ lt: 5, reverse: true })
  db.put(2, buf('later'))
  const got = []
  for await (const [id, data] of asyncLater) got.push([Number(id), data.toString()])
  assert.deepEqual(got, [[4, 'changed'], [2, 'doc 2'], [1, 'later']])
})

test('leaving a loop early closes the cursor', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 10, 1))
  const r = db.range()
  for (const [id] of r) {
    if (id === 2n) break
  }
  assert.deepEqual([...r], [], 'the rest is released')
  const cursor = db.scan({ gte: 5 })
  assert.deepEqual(cursor.next()[0], 5n)
  cursor.close()
  assert.equal(cursor.next(), null)
})

test('return() on an iterator of a range releases it, even before the first step', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 10, 1))
  assert.equal(db.stats().activeReaders, 0)
  for (const iterate of [(r) => r[Symbol.iterator](), (r) => r[Symbol.asyncIterator]()]) {
    const r = db.range()
    assert.equal(db.stats().activeReaders, 1, 'a database range holds a snapshot')
    const it = iterate(r)
    await it.return()
    assert.equal(db.stats().activeReaders, 0, 'return() released it')
    assert.deepEqual(await it.next(), { value: undefined, done: true })
    assert.deepEqual([...r], [], 'the range is over')
  }
  // The same through a loop that leaves at once, and after a step.
  for (const [id] of db.range()) if (id === 0n) break
  for await (const [id] of db.range()) if (id === 3n) break
  assert.equal(db.stats().activeReaders, 0)
  const tx = db.begin()
  const it = tx.range()[Symbol.iterator]()
  it.return()
  assert.deepEqual(it.next(), { value: undefined, done: true })
  tx.rollback()
})

test('a transaction range sees its own writes, across pages', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 10, 1))
  const tx = db.begin()
  tx.delete(3)
  tx.put(4, buf('mine'))
  tx.put(15, buf('new'))
  db.put(6, buf('committed by another'))
  const got = [...tx.range({ gte: 2, lt: 20 })]
  assert.deepEqual(got.map(([id]) => Number(id)), [2, 4, 5, 6, 7, 8, 9, 15])
  assert.equal(got[1][1].toString(), 'mine')
  assert.deepEqual(got[3][1], doc(6))
  assert.deepEqual([...tx.range({ reverse: true, limit: 3 })].map(([id]) => Number(id)), [15, 9, 8])
  const viaAsync = []
  for await (const [id] of tx.range({ gt: 7 })) viaAsync.push(Number(id))
  assert.deepEqual(viaAsync, [8, 9, 15])
  tx.rollback()

  // Longer than the 64-document pages of the cursor, both ways, with staged writes and
  // deletions on both sides of page edges.
  const db2 = store.createDb('pages')
  fill(db2, step(0, 600, 2))
  const tx2 = db2.begin()
  const expected = new Set(step(0, 600, 2))
  for (const i of step(1, 600, 7)) {
    tx2.put(i, doc(i))
    expected.add(i)
  }
  for (const i of step(0, 600, 10)) {
    tx2.delete(i)
    expected.delete(i)
  }
  const sorted = [...expected].sort((a, b) => a - b)
  assert.deepEqual(idsOf(tx2.range()), sorted)
  assert.deepEqual(idsOf(tx2.range({ reverse: true })), [...sorted].reverse())
  const within = sorted.filter((i) => i >= 100 && i < 400)
  assert.deepEqual(idsOf(tx2.range({ gte: 100, lt: 400, limit: 130 })), within.slice(0, 130))
  assert.deepEqual(
    idsOf(tx2.range({ gte: 100, lt: 400, reverse: true, limit: 70 })),
    [...within].reverse().slice(0, 70),
  )
  tx2.rollback()
})

test('finished transactions, closed snapshots and closed stores are CLOSED', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 200, 1))
  const tx = db.begin()
  const it = tx.range()[Symbol.iterator]()
  assert.equal(it.next().value[0], 0n)
  tx.commit()
  throwsCode(() => it.next(), 'CLOSED')
  assert.equal(it.next().done, true)
  throwsCode(() => tx.range(), 'CLOSED')

  const snap = db.snapshot()
  snap.close()
  throwsCode(() => snap.range(), 'CLOSED')
  throwsCode(() => snap.count(), 'CLOSED')

  const open = db.range()[Symbol.iterator]()
  assert.equal(open.next().value[0], 0n)
  const live = db.begin()
  const liveRange = live.range()[Symbol.iterator]()
  assert.equal(liveRange.next().value[0], 0n)
  store.close()
  throwsCode(() => open.next(), 'CLOSED')
  throwsCode(() => live.range(), 'CLOSED')
  throwsCode(() => liveRange.next(), 'CLOSED')
  throwsCode(() => db.range(), 'CLOSED')
  throwsCode(() => db.count(), 'CLOSED')
})

test('a closed store ends an async range with CLOSED', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 10, 1))
  const it = db.range()[Symbol.asyncIterator]()
  assert.equal((await it.next()).value[0], 0n)
  store.close()
  await assert.rejects(it.next(), (e) => e instanceof docdb.DocDBError && e.code === 'CLOSED')
})

test('bad range options are typed errors', (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  const tx = db.begin()
  const snap = db.snapshot()
  t.after(() => snap.close())
  for (const call of [(o) => db.range(o), (o) => db.count(o), (o) => snap.range(o), (o) => snap.count(o), (o) => tx.range(o), (o) => tx.count(o)]) {
    throwsCode(() => call({ gte: 1, gt: 2 }), 'INVALID_ARGUMENT')
    throwsCode(() => call({ lte: 1, lt: 2 }), 'INVALID_ARGUMENT')
    assert.throws(() => call({ gte: '1' }), TypeError)
    assert.throws(() => call({ gte: -1 }), RangeError)
    assert.throws(() => call({ lt: 2n ** 64n }), RangeError)
    assert.throws(() => call({ gt: 1.5 }), RangeError)
    assert.throws(() => call({ limit: -1 }), RangeError)
    assert.throws(() => call({ limit: 2n }), TypeError)
    assert.throws(() => call({ reverse: 1 }), TypeError)
    assert.throws(() => call({ from: 1 }), TypeError, 'unknown keys are refused')
    assert.throws(() => call(5), TypeError)
    assert.throws(() => call([]), TypeError)
  }
  tx.rollback()
})

test('for await over a snapshot or a database streams on the libuv pool', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('r')
  fill(db, step(0, 300, 1))
  const snap = db.snapshot()
  db.delete(5)
  assert.deepEqual(await idsOfAsync(snap), step(0, 300, 1))
  snap.close()
  const viaDb = await idsOfAsync(db)
  assert.deepEqual(viaDb, step(0, 300, 1).filter((i) => i !== 5))
})
