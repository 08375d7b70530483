'use strict'
// connect(): the same Store API through a `docdb serve` (target/release/docdb, built by
// `cargo build --release -p docdb-cli`, or $DOCDB_BIN) on a temporary Unix socket or TCP.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { docdb, tempDir, throwsCode, rejectsCode, buf } = require('./helpers')

const DOCDB_BIN = process.env.DOCDB_BIN || path.resolve(__dirname, '../../../target/release/docdb')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A `docdb serve` child process on `data` and the Unix socket `sock`. */
class Server {
  constructor(data, sock, extra = []) {
    Object.assign(this, { data, sock, extra, url: `unix://${sock}` })
  }

  async start() {
    const args = ['serve', '--data', this.data, '--unix', this.sock, '--log-level', 'error', ...this.extra]
    this.proc = spawn(DOCDB_BIN, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })))
    for (let waited = 0; !fs.existsSync(this.sock); waited += 10) {
      assert.equal(this.proc.exitCode, null, 'docdb serve exited at start')
      assert.ok(waited < 30_000, 'docdb serve did not create its socket')
      await sleep(10)
    }
    return this
  }

  async kill() {
    this.proc.kill('SIGKILL')
    await this.exited
    fs.rmSync(this.sock, { force: true })
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.proc.kill('SIGTERM')
    assert.deepEqual(await this.exited, { code: 0, signal: null })
  }
}

/** A server on a fresh directory; stopped (then the directory removed) after the test. */
async function serve(t, extra, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-node-'))) {
  const server = new Server(path.join(dir, 'data'), path.join(dir, 'docdb.sock'), extra)
  t.after(async () => {
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return server.start()
}

test('connect gives a Store with the same API, sync and async', async (t) => {
  const server = await serve(t)
  const store = docdb.connect(server.url)
  assert.equal(store.url, server.url)
  assert.equal(store.path, null)
  const notes = store.createDb('notes')
  notes.putJSON(1n, { title: 'hello' })
  await notes.createAsync(2, buf('raw'))
  assert.deepEqual(notes.readJSON(1n), { title: 'hello' })
  assert.deepEqual(await notes.readAsync(2), buf('raw'))
  assert.equal(notes.len(), 2)
  assert.ok(notes.batch([{ op: 'put', id: 3, data: buf('c') }, { op: 'delete', id: 2 }]) > 0)
  throwsCode(() => notes.read(2), 'NOT_FOUND')
  throwsCode(() => store.createDb('notes'), 'ALREADY_EXISTS')
  assert.deepEqual(store.listDbs().map((d) => d.name), ['notes'])
  assert.equal(store.stats().documents, 2)
  await store.checkpointAsync()
  store.sync()
  await store.closeAsync()
  assert.equal(store.closed, true)
  throwsCode(() => store.listDbs(), 'CLOSED')

  const again = await docdb.connectAsync(server.url)
  t.after(() => again.close())
  assert.deepEqual(
    [...again.openDb('notes')].map(([id, d]) => [id, d.toString()]),
    [[1n, '{"title":"hello"}'], [3n, 'c']],
  )
})

test('transactions, snapshots and ranges are held by the server', async (t) => {
  const server = await serve(t)
  const store = docdb.connect(server.url)
  t.after(() => store.close())
  const db = store.createDb('t')
  db.batch(Array.from({ length: 200 }, (_, i) => ({ op: 'put', id: i, data: buf(`v${i}`) })))
  const snap = db.snapshot()
  db.transaction((tx) => {
    tx.put(500, buf('new'))
    tx.delete(0)
    assert.deepEqual([...tx.range({ gte: 199 })].map(([id]) => id), [199n, 500n])
    assert.equal([...tx.range()].length, 200)
    assert.equal(tx.count(), 200)
    assert.equal(tx.count({ gte: 199 }), 2, 'a staged write is counted')
    assert.equal(tx.count({ lt: 5 }), 4, 'a staged delete is not')
    assert.equal(tx.count({ lt: 5, limit: 3 }), 3)
  })
  assert.equal(snap.contains(500), false)
  assert.equal(snap.count(), 200)
  assert.deepEqual([...snap.range({ gte: 10, lt: 13 })].map(([id]) => id), [10n, 11n, 12n])
  const down = []
  for await (const [id] of snap.range({ reverse: true, limit: 2 })) down.push(id)
  assert.deepEqual(down, [199n, 198n])
  snap.close()
  assert.equal(db.count({ gte: 199 }), 2)
  assert.deepEqual([...db.range({ gte: 198, limit: 5 })].map(([id]) => id), [198n, 199n, 500n])

  // First committer wins across two connections.
  const other = docdb.connect(server.url)
  t.after(() => other.close())
  const a = db.begin()
  const b = other.openDb('t').begin()
  a.put(7, buf('a'))
  b.put(7, buf('b'))
  await a.commitAsync()
  throwsCode(() => b.commit(), 'CONFLICT')
  assert.deepEqual(db.read(7), buf('a'))
})

test('closing the store ends its open ranges with CLOSED, as locally', async (t) => {
  const server = await serve(t)
  const store = docdb.connect(server.url)
  const db = store.createDb('c')
  db.batch(Array.from({ length: 10 }, (_, i) => ({ op: 'put', id: i, data: buf(`v${i}`) })))
  const snap = db.snapshot()
  const tx = db.begin()
  // Each has read its first page (all ten documents) from the server.
  const open = [db.range(), snap.range(), tx.range(), db].map((r) => r[Symbol.iterator]())
  const openAsync = db.range()[Symbol.asyncIterator]()
  for (const it of open) assert.equal(it.next().value[0], 0n)
  assert.equal((await openAsync.next()).value[0], 0n)
  store.close()
  for (const it of open) {
    throwsCode(() => it.next(), 'CLOSED')
    assert.equal(it.next().done, true)
  }
  await rejectsCode(openAsync.next(), 'CLOSED')
  throwsCode(() => tx.range(), 'CLOSED')
})

test('backup needs the server host', async (t) => {
  const server = await serve(t)
  const store = docdb.connect(server.url)
  t.after(() => store.close())
  const dest = path.join(tempDir(t), 'copy')
  const e = throwsCode(() => store.backup(dest), 'INVALID_ARGUMENT')
  assert.match(e.message, /host of the server/)
  assert.equal(fs.existsSync(dest), false)
})

test('connect errors are typed', async (t) => {
  const dir = tempDir(t)
  const e = throwsCode(() => docdb.connect(`unix://${dir}/nobody.sock`), 'UNAVAILABLE')
  assert.equal(e.outcomeUnknown, false)
  await rejectsCode(docdb.connectAsync(`unix://${dir}/nobody.sock`), 'UNAVAILABLE')
  for (const bad of ['ftp://x', 'unix://', 'not a url', 'tcp://localhost']) {
    throwsCode(() => docdb.connect(bad), 'INVALID_ARGUMENT')
  }
  assert.throws(() => docdb.connect(5), TypeError)
  assert.throws(() => docdb.connect(`unix://${dir}/x.sock`, { tokn: 'x' }), TypeError)
  assert.throws(() => docdb.connect(`unix://${dir}/x.sock`, { token: 5 }), TypeError)
  assert.throws(() => docdb.connect(`unix://${dir}/x.sock`, { connectTimeout: 0 }), RangeError)
  assert.throws(() => docdb.connect(`unix://${dir}/x.sock`, { requestTimeout: -1 }), RangeError)
})

test('a requestTimeout of 0 is no limit, as in C, Go and Python', async (t) => {
  const server = await serve(t)
  const store = docdb.connect(server.url, { requestTimeout: 0, connectTimeout: 5000 })
  t.after(() => store.close())
  store.createDb('patient').put(1, buf('x'))
  assert.deepEqual(store.openDb('patient').read(1), buf('x'))
})

test('a lost connection is UNAVAILABLE and the next call reconnects', async (t) => {
  const server = await serve(t)
  const store = docdb.connect(server.url)
  t.after(() => store.close())
  const db = store.createDb('d')
  db.put(1, buf('before'))
  const snap = db.snapshot()
  await server.kill()
  const e = throwsCode(() => db.read(1), 'UNAVAILABLE')
  assert.equal(typeof e.outcomeUnknown, 'boolean')
  await rejectsCode(db.putAsync(2, buf('while down')), 'UNAVAILABLE')
  await server.start()
  assert.deepEqual(db.read(1), buf('before'))
  db.put(2, buf('after'))
  assert.deepEqual(await db.readAsync(2), buf('after'))
  // The snapshot lived on the broken connection: an error, never a hang.
  assert.throws(() => snap.read(1), (err) => ['UNAVAILABLE', 'CLOSED'].includes(err.code))
})

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

test('TCP needs the token', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-node-'))
  fs.writeFileSync(path.join(dir, 'token'), 's3cret\n')
  const port = await freePort()
  const server = await serve(t, ['--tcp', `127.0.0.1:${port}`, '--token-file', path.join(dir, 'token')], dir)
  const url = `tcp://127.0.0.1:${port}`
  const store = docdb.connect(url, { token: 's3cret' })
  store.createDb('over-tcp').put(1, buf('x'))
  store.close()
  throwsCode(() => docdb.connect(url, { token: 'wrong' }), 'INVALID_ARGUMENT')
  throwsCode(() => docdb.connect(url), 'INVALID_ARGUMENT')
  // The server asks every client for it, on its Unix socket too.
  const local = docdb.connect(server.url, { token: 's3cret' })
  assert.deepEqual(local.openDb('over-tcp').read(1), buf('x'))
  local.close()
})
