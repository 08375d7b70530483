'use strict'
// Shared fixtures: a throw-away data directory per test, removed afterwards.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const assert = require('node:assert/strict')

const docdb = require('..')

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-node-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Opens a store in a fresh directory; closed after the test. */
function freshStore(t, options) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-node-'))
  const store = docdb.open(dir, options)
  t.after(() => {
    store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { dir, store }
}

/** Asserts that `fn` throws a DocDBError with `code` (and returns it). */
function throwsCode(fn, code) {
  let caught
  assert.throws(fn, (e) => {
    caught = e
    return true
  })
  assertDocDBError(caught, code)
  return caught
}

async function rejectsCode(promise, code) {
  let caught
  await assert.rejects(promise, (e) => {
    caught = e
    return true
  })
  assertDocDBError(caught, code)
  return caught
}

function assertDocDBError(e, code) {
  assert.ok(e instanceof docdb.DocDBError, `expected a DocDBError, got ${e && e.stack}`)
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'DocDBError')
  assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`)
  assert.equal(typeof e.message, 'string')
  assert.ok(e.message.length > 0)
}

const buf = (s) => Buffer.from(s, 'utf8')

module.exports = { docdb, tempDir, freshStore, throwsCode, rejectsCode, buf }
