'use strict'
// The shipped declarations (docdb.d.ts over the generated index.d.ts) type-check a typed
// example under `strict`, and reject misuse (see the @ts-expect-error lines there).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')

function runTsc(project) {
  return spawnSync(process.execPath, [tsc, '-p', project], { cwd: root, encoding: 'utf8' })
}

test('tsc --noEmit accepts the typed example', { timeout: 120_000 }, () => {
  const r = runTsc(path.join(__dirname, 'tsconfig.json'))
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`)
})

test('tsc rejects a misuse that the declarations forbid', { timeout: 120_000 }, (t) => {
  // Same configuration, one file with an error and no @ts-expect-error: tsc must fail and
  // name it, otherwise the previous test would prove nothing.
  const dir = fs.mkdtempSync(path.join(__dirname, '.tsc-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(
    path.join(dir, 'bad.ts'),
    "import { open } from '../..'\nopen('/tmp/x').openDb('a').put('1', Buffer.from('x'))\n",
  )
  const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'tsconfig.json'), 'utf8'))
  config.files = ['bad.ts']
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config))
  const r = runTsc(path.join(dir, 'tsconfig.json'))
  assert.notEqual(r.status, 0)
  assert.match(r.stdout, /bad\.ts\(2,\d+\): error TS2345/)
})
