'use strict'
// `npm pack` produces a tarball that installs into an empty project and works there.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('the packed tarball installs into an empty folder and works', { timeout: 180_000 }, (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docdb-pack-'))
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }))

  const packed = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: root, encoding: 'utf8' }),
  )
  const files = packed[0].files.map((f) => f.path).sort()
  assert.deepEqual(files, [
    'README.md',
    'docdb.d.ts',
    'docdb.js',
    'docdb.linux-x64-gnu.node',
    'index.d.ts',
    'index.js',
    'package.json',
  ])
  const tarball = path.join(tmp, packed[0].filename)

  const project = path.join(tmp, 'app')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), '{"name":"app","private":true}\n')
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', tarball], {
    cwd: project,
    stdio: 'pipe',
  })
  const installed = path.join(project, 'node_modules', '@docdb', 'node')
  assert.ok(!fs.lstatSync(installed).isSymbolicLink(), 'a copy, not a link to the source folder')

  const script = `
    const docdb = require('@docdb/node')
    const store = docdb.open(process.argv[1])
    const db = store.openOrCreateDb('packed')
    db.put(1n, Buffer.from('from the tarball'))
    db.putJSON(2, { ok: true })
    console.log(db.read(1n).toString(), JSON.stringify(db.readJSON(2)), docdb.version())
    try { db.read(3) } catch (e) { console.log(e instanceof docdb.DocDBError, e.code) }
    store.close()
  `
  const out = execFileSync(process.execPath, ['-e', script, path.join(tmp, 'data')], {
    cwd: project,
    encoding: 'utf8',
  })
  assert.match(out, /^from the tarball \{"ok":true\} \d+\.\d+\.\d+\ntrue NOT_FOUND\n$/)
})
