// A typed use of the package, checked by `tsc --noEmit` (typecheck.test.js). The
// `@ts-expect-error` lines prove that the declarations reject misuse: if a type became
// too loose, the directive itself would be reported as unused and the check would fail.
import { open, openAsync, connectAsync, DocDBError, type ErrorCode, type BatchOp, type Database, type Store } from '..'

interface User {
  name: string
  tags: string[]
}

export async function example(dir: string): Promise<number> {
  const store = open(dir, { sync: 'normal', maxDocumentSize: 1 << 20 })
  const users: Database = store.openOrCreateDb('users')

  users.create(1n, Buffer.from('raw bytes'))
  users.put(2, new Uint8Array([1, 2, 3]))
  const raw: Buffer = users.read(1n)
  users.putJSON(3n, { name: 'Ada', tags: ['math'] } satisfies User)
  const ada = users.readJSON<User>(3n)
  const firstTag: string | undefined = ada.tags[0]

  const ops: BatchOp[] = [
    { op: 'put', id: 10n, data: Buffer.from('a') },
    { op: 'delete', id: 2 },
  ]
  const version: number = users.batch(ops)

  const total: number = users.transaction((tx) => {
    tx.update(1n, Buffer.from('changed'))
    return tx.pending
  })
  const later: Promise<string> = users.transaction(async (tx) => {
    tx.putJSON(4n, { name: 'Charles', tags: [] } satisfies User)
    return 'done'
  })
  await later

  const snap = users.snapshot()
  for (const [id, data] of snap) {
    const key: bigint = id
    const bytes: Buffer = data
    void key
    void bytes
  }
  const ids: bigint[] = snap.ids()
  const inRange: number = snap.count({ gte: 1n, lt: 10 })
  snap.close()

  // Keyset paging: the next page starts after the last id seen.
  let last: bigint | undefined
  const page: Array<[bigint, Buffer]> = users.range({ gt: last, limit: 50 }).toArray()
  last = page.length > 0 ? page[page.length - 1][0] : undefined
  for await (const [id] of users.range({ lt: last, reverse: true, limit: 50 })) void id
  const pending = users.transaction((tx) => [...tx.range({ gte: 0 })].length)
  const staged: number = users.transaction((tx) => tx.count({ gte: 0, limit: 10 }))
  void inRange
  void pending
  void staged

  const read: Buffer = await users.readAsync(1n)
  await users.putAsync(5n, Buffer.from('x'))
  const reclaimed: number = await users.compactAsync()

  try {
    users.create(1n, Buffer.from('dup'))
  } catch (e) {
    if (e instanceof DocDBError) {
      const code: ErrorCode = e.code
      const index: number | undefined = e.batchIndex
      void code
      void index
    }
  }

  // A server's store has the same type; connecting to nobody throws UNAVAILABLE.
  const connectTo = (url: string): Promise<Store> => connectAsync(url, { token: 's3cret', connectTimeout: 1000 })
  void connectTo
  const where: string | null = store.url ?? store.path
  void where

  const other = await openAsync(`${dir}-other`)
  await other.closeAsync()

  // @ts-expect-error ids are bigint or number, not strings
  users.put('1', Buffer.from('x'))
  // @ts-expect-error documents are bytes; use putJSON for values
  users.put(1n, 'text')
  // @ts-expect-error unknown batch operation
  users.batch([{ op: 'upsert', id: 1n, data: Buffer.from('x') }])
  // @ts-expect-error a write operation needs data
  users.batch([{ op: 'put', id: 1n }])
  // @ts-expect-error unknown durability mode
  open(dir, { sync: 'sometimes' })
  // @ts-expect-error unknown option
  open(dir, { syncMode: 'full' })
  // @ts-expect-error unknown range option
  users.range({ from: 1 })
  // @ts-expect-error a limit is a number
  users.count({ limit: 5n })
  // @ts-expect-error read returns a Buffer, not a string
  const wrong: string = users.read(1n)
  void wrong

  store.close()
  return raw.length + (firstTag ? 1 : 0) + version + total + ids.length + read.length + reclaimed
}
