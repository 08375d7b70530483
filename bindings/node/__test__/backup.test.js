'use strict'
// store.backup / backupAsync: a consistent, verified copy while writes go on.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { docdb, tempDir, freshStore, throwsCode, rejectsCode, buf } = require('./helpers')

test('backupAsync while writes go on copies a prefix of them', async (t) => {
  const { store } = freshStore(t)
  const db = store.createDb('d')
  for (let i = 0; i < 100; i++) db.put(i, buf(String(i)))
  let stop = false
  const writer = (async () => {
    for (let i = 100; !stop; i++) await db.putAsync(i, buf(String(i)))
  })()
  const dest = path.join(tempDir(t), 'copy')
  await store.backupAsync(dest)
  stop = true
  await writer

  const copy = docdb.open(dest)
  const ids = copy.openDb('d').snapshot().ids().map(Number)
  // Writes are acknowledged in id order: the copy holds ids 0..k for some k >= 99.
  assert.ok(ids.length >= 100)
  assert.deepEqual(ids, [...Array(ids.length).keys()])
  assert.equal(copy.openDb('d').read(ids.length - 1).toString(), String(ids.length - 1))
  copy.close()
})

test('backup refuses a destination that is not empty, and a closed store', async (t) => {
  const { store } = freshStore(t)
  store.createDb('d').put(1, buf('x'))
  const out = tempDir(t)
  const dest = path.join(out, 'copy')
  store.backup(dest)
  const copy = docdb.open(dest)
  assert.equal(copy.openDb('d').read(1).toString(), 'x')
  copy.close()

  const err = throwsCode(() => store.backup(dest), 'ALREADY_EXISTS')
  assert.match(err.message, /not empty/)
  await rejectsCode(store.backupAsync(dest), 'ALREADY_EXISTS')
  throwsCode(() => store.backup(path.join(store.path, 'inside')), 'INVALID_ARGUMENT')
  assert.equal(fs.existsSync(path.join(store.path, 'inside')), false)

  store.close()
  throwsCode(() => store.backup(path.join(out, 'late')), 'CLOSED')
  assert.equal(fs.existsSync(path.join(out, 'late')), false)
})
