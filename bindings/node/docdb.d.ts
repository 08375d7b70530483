// Types of the public entry point (docdb.js). The native classes are declared in the
// generated index.d.ts; the helpers added by docdb.js are merged into them below.
import type { DocId, RangeOptions } from './index'

export {
  open,
  openAsync,
  connect,
  connectAsync,
  version,
  Store,
  Database,
  Transaction,
  Snapshot,
  SnapshotScan,
  TransactionScan,
  DocId,
  RangeOptions,
  BatchOp,
  OpenOptions,
  ConnectOptions,
  DbInfo,
  DbStats,
  StoreStats,
} from './index'

/** The stable `code` of a DocDBError (docs/errors.md). */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'MEMORY_LIMIT'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_NAME'
  | 'INVALID_ARGUMENT'
  | 'LOCKED'
  | 'CLOSED'
  | 'CORRUPTION'
  | 'POISONED'
  | 'UNSUPPORTED_VERSION'
  | 'IO'
  | 'UNAVAILABLE'
  | 'INTERNAL'

/** Every ErrorCode. */
export declare const ERROR_CODES: readonly ErrorCode[]

/** An error reported by the DocDB engine. Wrong argument types are TypeError instead. */
export declare class DocDBError extends Error {
  constructor(message: string, code: ErrorCode, batchIndex?: number | null, outcomeUnknown?: boolean | null)
  readonly name: 'DocDBError'
  readonly code: ErrorCode
  /** For a failed `batch()`: the position of the operation that failed. */
  readonly batchIndex?: number
  /** For UNAVAILABLE: whether the request may have been applied before the connection to
   *  the server broke (it is never resent unless it cannot change anything). */
  readonly outcomeUnknown?: boolean
}

/**
 * The documents of a `range()`, in its order: one pass with `for...of` or `for await...of`.
 * Leaving the loop early (or `close()`) releases the cursor.
 */
export declare class DocRange implements Iterable<[bigint, Buffer]>, AsyncIterable<[bigint, Buffer]> {
  private constructor()
  [Symbol.iterator](): Generator<[bigint, Buffer], void, undefined>
  [Symbol.asyncIterator](): AsyncGenerator<[bigint, Buffer], void, undefined>
  /** Every remaining `[id, data]` pair. */
  toArray(): Array<[bigint, Buffer]>
  close(): void
}

declare module './index' {
  interface Database {
    /**
     * Reads a document into `target` and returns its length. A document longer than
     * `target` is not copied: the return value is then larger than `target.length`, and
     * `target` is unchanged. Throws `NOT_FOUND` if absent.
     */
    readInto(id: DocId, target: Uint8Array): number
    /**
     * The documents of a range, as of a snapshot taken now (held by the iterator):
     * `for (const [id, data] of db.range({ gt: last, limit: 50 }))`.
     */
    range(options?: RangeOptions): DocRange
    /** `create(id, Buffer.from(JSON.stringify(value)))`. */
    createJSON(id: DocId, value: unknown): void
    /** `JSON.parse` of `read(id)`; the type parameter is not checked at run time. */
    readJSON<T = unknown>(id: DocId): T
    updateJSON(id: DocId, value: unknown): void
    putJSON(id: DocId, value: unknown): void
    createJSONAsync(id: DocId, value: unknown): Promise<void>
    readJSONAsync<T = unknown>(id: DocId): Promise<T>
    updateJSONAsync(id: DocId, value: unknown): Promise<void>
    putJSONAsync(id: DocId, value: unknown): Promise<void>
    /**
     * Runs `fn(tx)` in a transaction: commits when it returns (or its promise resolves),
     * rolls back and rethrows when it throws (or its promise rejects). A commit that loses
     * a write-write race throws `CONFLICT`.
     */
    transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>
    transaction<T>(fn: (tx: Transaction) => T): T
    /** `[id, data]` pairs in ascending id order, of a snapshot taken when iteration starts. */
    [Symbol.iterator](): Generator<[bigint, Buffer], void, undefined>
    entries(): Generator<[bigint, Buffer], void, undefined>
    /** As `[Symbol.iterator]`, each document read on the libuv pool. */
    [Symbol.asyncIterator](): AsyncGenerator<[bigint, Buffer], void, undefined>
  }

  interface Transaction {
    /** The documents of a range as this transaction sees them (its own writes included). */
    range(options?: RangeOptions): DocRange
    readJSON<T = unknown>(id: DocId): T
    createJSON(id: DocId, value: unknown): void
    updateJSON(id: DocId, value: unknown): void
    putJSON(id: DocId, value: unknown): void
  }

  interface Snapshot {
    /** The documents of a range of this snapshot: `snap.range({ gte: 10, lt: 20 })`. */
    range(options?: RangeOptions): DocRange
    readJSON<T = unknown>(id: DocId): T
    readJSONAsync<T = unknown>(id: DocId): Promise<T>
    /** `[id, data]` pairs in ascending id order. */
    [Symbol.iterator](): Generator<[bigint, Buffer], void, undefined>
    entries(): Generator<[bigint, Buffer], void, undefined>
    /** As `[Symbol.iterator]`, each document read on the libuv pool. */
    [Symbol.asyncIterator](): AsyncGenerator<[bigint, Buffer], void, undefined>
  }
}
