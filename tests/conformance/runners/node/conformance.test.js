'use strict'
// The conformance scenarios (tests/conformance/README.md), run through the Node face: one
// test per scenario and mode, each in a fresh directory made the current directory. The
// local mode opens the stores in this process; the remote mode serves each data directory
// with `docdb serve` (target/release/docdb, or $DOCDB_BIN) and connects to it. Scenarios
// marked "local_only" run locally only.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn } = require('node:child_process')

const MODULE = path.resolve(__dirname, '../../../../bindings/node')
const docdb = require(MODULE)

const SCENARIOS = path.resolve(__dirname, '../../scenarios')
const DOCDB_BIN = process.env.DOCDB_BIN || path.resolve(__dirname, '../../../../target/release/docdb')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Remote mode: one `docdb serve` per data directory, started at the first open of it and
 * stopped (SIGTERM, exit 0) when its last store handle closes, as a local store's files are.
 */
class Servers {
  constructor() {
    this.sockets = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-sock-'))
    this.started = 0
    this.running = new Map() // data directory -> { proc, exited, url, clients }
  }

  async connect(dir) {
    fs.mkdirSync(dir, { recursive: true })
    const data = fs.realpathSync(dir)
    let server = this.running.get(data)
    if (server === undefined) {
      const sock = path.join(this.sockets, `${this.started++}.sock`)
      const args = ['serve', '--data', data, '--unix', sock, '--log-level', 'error']
      const proc = spawn(DOCDB_BIN, args, { stdio: ['ignore', 'inherit', 'inherit'] })
      const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)))
      for (let waited = 0; !fs.existsSync(sock); waited += 5) {
        if (proc.exitCode !== null || waited > 30_000) throw new Error(`docdb serve --data ${data} did not start`)
        await sleep(5)
      }
      server = { proc, exited, url: `unix://${sock}`, clients: new Set() }
      this.running.set(data, server)
    }
    const store = docdb.connect(server.url)
    server.clients.add(store)
    return store
  }

  async disconnect(store) {
    for (const [data, server] of this.running) {
      if (server.clients.delete(store) && server.clients.size === 0) await this.stop(data)
    }
  }

  async stop(data) {
    const server = this.running.get(data)
    this.running.delete(data)
    server.proc.kill('SIGTERM')
    const code = await server.exited
    if (code !== 0) throw new Error(`docdb serve --data ${data} exited with ${code}`)
  }

  async stopAll() {
    for (const data of [...this.running.keys()]) await this.stop(data)
    fs.rmdirSync(this.sockets)
  }
}

/** The handles of one scenario, and its servers in remote mode. */
class Context {
  constructor(remote) {
    this.vars = {}
    this.servers = remote ? new Servers() : null
  }

  open(a) {
    if (this.servers === null) return docdb.open(a.path, options(a.options))
    if (a.options !== undefined) {
      throw new Error("remote mode: options are the server's (mark the scenario local_only)")
    }
    return this.servers.connect(a.path)
  }

  async close(store) {
    try {
      store.close()
    } finally {
      if (this.servers !== null) await this.servers.disconnect(store)
    }
  }

  async release() {
    for (const v of Object.values(this.vars)) {
      if (v instanceof docdb.Store) {
        try {
          await this.close(v)
        } catch (e) {
          if (!(e instanceof docdb.DocDBError)) throw e
        }
      }
    }
    if (this.servers !== null) await this.servers.stopAll()
  }
}

function load() {
  const out = []
  for (const file of fs.readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort()) {
    out.push(...JSON.parse(fs.readFileSync(path.join(SCENARIOS, file), 'utf8')).scenarios)
  }
  return out
}

/** Document data of the format: a string is UTF-8, `{hex}` raw bytes. */
function data(value) {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.hex, 'hex')
}

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

function options(opts) {
  if (opts === undefined) return undefined
  return Object.fromEntries(Object.entries(opts).map(([k, v]) => [camel(k), v]))
}

/** A statistics object with core's snake_case names. */
function stats(obj) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [snake(k), v]))
}

const pairs = (entries) => entries.map(([id, doc]) => [Number(id), doc])

async function collect(iterable) {
  const out = []
  for await (const entry of iterable) out.push(entry)
  return out
}

/**
 * A range, drained with `for...of` and again with `for await...of`: both must give the same
 * pairs. The format's arguments are the options as they are ({ gte, gt, lte, lt, reverse,
 * limit }).
 */
async function range(h, a) {
  const direct = pairs([...h.range(a)])
  const viaAsync = pairs(await collect(h.range(a)))
  assert.deepEqual(viaAsync, direct, 'for await...of must give what for...of gives')
  return direct
}

const OTHER_PROCESS = `const docdb = require(${JSON.stringify(MODULE)})
try { docdb.open(process.argv[1]).close(); console.log('OK') } catch (e) { console.log(e.code) }`

/** Runs one call; returns its result (may be a promise for the async spellings). */
function call(ctx, step) {
  const vars = ctx.vars
  const a = step.args || {}
  switch (step.call) {
    case 'fs.write':
      fs.mkdirSync(path.dirname(a.path), { recursive: true })
      fs.writeFileSync(a.path, data(a.data))
      return null
    case 'fs.list':
      return fs.existsSync(a.path) ? fs.readdirSync(a.path).sort() : []
    case 'fs.exists':
      return fs.existsSync(a.path)
    case 'open':
      return ctx.open(a)
    case 'open_in_other_process': {
      const code = execFileSync(process.execPath, ['-e', OTHER_PROCESS, a.path], {
        encoding: 'utf8',
      }).trim()
      if (code !== 'OK') throw new docdb.DocDBError(`the other process got ${code}`, code)
      return null
    }
  }
  if (!(step.on in vars)) throw new Error(`step names no known handle: on=${step.on}`)
  const h = vars[step.on]
  // The calls that databases, transactions and snapshots spell alike.
  const method = step.call.split('.')[1]
  if (['create', 'update', 'put'].includes(method)) return h[method](a.id, data(a.data))
  if (['read', 'delete', 'contains'].includes(method)) return h[method](a.id)
  if (method === 'range') return range(h, a)
  if (method === 'count') return h.count(a)
  const table = {
    'store.close': () => ctx.close(h),
    'store.closed': () => h.closed,
    'store.create_db': () => h.createDb(a.name),
    'store.open_db': () => h.openDb(a.name),
    'store.open_or_create_db': () => h.openOrCreateDb(a.name),
    'store.drop_db': () => h.dropDb(a.name),
    'store.list_dbs': () => h.listDbs().map((i) => i.name),
    'store.stats': () => stats(h.stats()),
    'store.checkpoint': () => h.checkpoint(),
    'store.sync': () => h.sync(),

    'db.len': () => h.len(),
    'db.batch': () =>
      h.batch(a.ops.map((op) => ('data' in op ? { ...op, data: data(op.data) } : op))),
    'db.begin': () => h.begin(),
    'db.snapshot': () => h.snapshot(),
    'db.stats': () => stats(h.stats()),
    'db.compact': () => h.compact(),
    'db.checkpoint': () => h.checkpoint(),
    'db.sync': () => h.sync(),
    // Idiomatic spellings: Node has no mapping protocol; a Database is iterable.
    'db.get': () => (h.contains(a.id) ? h.read(a.id) : data(a.default)),
    'db.getitem': () => h.read(a.id),
    'db.setitem': () => h.put(a.id, data(a.data)),
    'db.delitem': () => h.delete(a.id),
    'db.in': () => h.contains(a.id),
    'db.size': () => h.len(),
    'db.iter': () => [...h].map(([id]) => Number(id)),
    'db.items': () => pairs([...h]),
    'db.values': () => [...h].map(([, doc]) => doc),
    'db.items_async': async () => pairs(await collect(h)),

    'txn.pending': () => h.pending,
    'txn.read_version': () => h.readVersion,
    'txn.commit': () => h.commit(),
    'txn.rollback': () => h.rollback(),

    'snap.len': () => h.len(),
    'snap.version': () => h.version,
    'snap.ids': () => h.ids().map(Number),
    'snap.scan': () => {
      const scan = h.scan()
      const out = []
      try {
        for (let e = scan.next(); e !== null; e = scan.next()) out.push([Number(e[0]), e[1]])
      } finally {
        scan.close()
      }
      return out
    },
    'snap.close': () => h.close(),
    'snap.items': () => pairs([...h]),
    'snap.items_async': async () => pairs(await collect(h)),
  }
  const f = table[step.call]
  if (f === undefined) throw new Error(`unknown call ${step.call}`)
  return f()
}

/** Compares a result with the format's expected value. */
function matches(expected, actual) {
  if (Buffer.isBuffer(actual)) {
    return (typeof expected === 'string' || (expected !== null && typeof expected === 'object' && 'hex' in expected)) &&
      actual.equals(data(expected))
  }
  if (Array.isArray(actual)) {
    return Array.isArray(expected) && expected.length === actual.length &&
      expected.every((e, i) => matches(e, actual[i]))
  }
  if (actual !== null && typeof actual === 'object') {
    return expected !== null && typeof expected === 'object' &&
      Object.entries(expected).every(([k, v]) => k in actual && (v === '*' || matches(v, actual[k])))
  }
  if (actual === undefined) return expected === null
  return actual === expected
}

function describe(outcome) {
  if (outcome.error) {
    const e = outcome.error
    return `error ${e.code} (batchIndex=${e.batchIndex}): ${e.message}`
  }
  return `ok ${JSON.stringify(outcome.value)}`
}

async function run(scenario, remote) {
  const ctx = new Context(remote)
  const vars = ctx.vars
  try {
    for (const [i, step] of scenario.steps.entries()) {
      let outcome
      try {
        outcome = { value: await call(ctx, step) }
      } catch (e) {
        if (!(e instanceof docdb.DocDBError)) throw e
        outcome = { error: e }
      }
      if (step.as !== undefined && !outcome.error) {
        const old = vars[step.as]
        if (old instanceof docdb.Store && old !== outcome.value) await ctx.close(old)
        vars[step.as] = outcome.value
      }
      const expect = step.expect
      let ok
      if (expect === undefined) ok = !outcome.error
      else if ('error' in expect) {
        ok = outcome.error !== undefined && outcome.error.code === expect.error
        if (ok && 'batch_index' in expect) ok = outcome.error.batchIndex === expect.batch_index
      } else ok = !outcome.error && matches(expect.ok, outcome.value)
      assert.ok(ok, `step ${i} (${step.call}): expected ${JSON.stringify(expect)}, got ${describe(outcome)}`)
    }
  } finally {
    await ctx.release()
  }
}

const ALL = load()

test('there are enough scenarios, with unique names', () => {
  assert.ok(ALL.length >= 60, `${ALL.length}`)
  assert.equal(new Set(ALL.map((s) => s.name)).size, ALL.length)
  for (const s of ALL) {
    if ('local_only' in s) assert.ok(typeof s.local_only === 'string' && s.local_only.length > 0, `${s.name}: local_only must say why`)
  }
})

const CASES = [
  ...ALL.map((s) => ['local', s]),
  ...ALL.filter((s) => !s.local_only).map((s) => ['remote', s]),
]

for (const [mode, scenario] of CASES) {
  test(`${mode}: ${scenario.name}`, async () => {
    const before = process.cwd()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-conformance-'))
    process.chdir(dir)
    try {
      await run(scenario, mode === 'remote')
    } finally {
      process.chdir(before)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
