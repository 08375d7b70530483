'use strict'
// A child process is killed with SIGKILL in the middle of a stream of durable commits:
// every commit it acknowledged must be there after reopening, byte for byte.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const { docdb, tempDir } = require('./helpers')

const doc = (i) => Buffer.from(`document ${i} `.repeat(1 + (i % 50)))

function runAndKill(dir, acksBeforeKill) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures/writer.js'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let acked = -1
    let buffered = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop()
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line)
        if (!m) return reject(new Error(`unexpected output: ${line}`))
        acked = Number(m[1])
      }
      if (acked >= acksBeforeKill && !child.killed) child.kill('SIGKILL')
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ acked, code, signal }))
  })
}

test('acknowledged commits survive SIGKILL of the writing process', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t)
  let expected = 0
  for (const round of [0, 1]) {
    const { acked, signal } = await runAndKill(dir, expected + 150)
    assert.equal(signal, 'SIGKILL', `round ${round}: the child was killed, not finished`)
    assert.ok(acked >= expected + 150, `round ${round}: ${acked} acks`)

    // The lock died with the process; recovery replays the log.
    const store = docdb.open(dir)
    const db = store.openDb('crash')
    for (let i = 0; i <= acked; i++) {
      assert.deepEqual(db.read(i), doc(i), `acknowledged document ${i} of round ${round}`)
      if (i % 4 === 2) assert.deepEqual(db.read(1e9 + i), doc(i), `second half of batch ${i}`)
    }
    // A commit in flight when the process died is all there or not at all.
    const next = acked + 1
    if (db.contains(next)) assert.deepEqual(db.read(next), doc(next))
    if (next % 4 === 2) assert.equal(db.contains(next), db.contains(1e9 + next), 'a batch is atomic')
    // The writer restarts from 0 and rewrites the same content; the next round goes further.
    expected = acked + 1
    store.close()
  }
})
