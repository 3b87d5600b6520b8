import Database from "better-sqlite3"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { DatabaseUnavailable } from "./DatabaseUnavailable.js"
import * as SqliteWriter from "./SqliteWriter.js"
import * as WalRewind from "./internal/WalRewind.js"
import * as WalCheckpointer from "./WalCheckpointer.js"

export { DatabaseUnavailable } from "./DatabaseUnavailable.js"

export interface SqliteOptions {
  readonly filename: string
  /**
   * FULL syncs the WAL on every commit, so an acknowledged append survives a
   * power cut; NORMAL only survives a process crash. Batching makes FULL
   * nearly free (see MEASURED.md), so it is the default.
   */
  readonly synchronous?: "FULL" | "NORMAL"
  /** When and how the WAL is copied back into the database file; tests shorten these. */
  readonly checkpoints?: Partial<Pick<WalCheckpointer.CheckpointerConfig, "intervalMs" | "rewindFrames" | "remainderFrames">>
}

/**
 * A 64 MiB WAL (of 4 KiB pages) is rewound once at most 1 MiB of it is left
 * to copy. A copy a second, ten while bulk writes grow the WAL that fast
 * (see the checkpointer thread): each ends with an fsync of the database
 * file, and five a second all the time slowed the writer's own syncs.
 */
const checkpointDefaults = { intervalMs: 1_000, rewindFrames: 16_384, remainderFrames: 256 }

/**
 * The embedded database file, shared by every embedded adapter of one engine
 * process: one writer thread does every write, and this thread reads on a
 * connection of its own (WAL lets readers run beside the writer).
 */
export class SqliteDatabase extends Context.Tag("@nudge/event-store/SqliteDatabase")<
  SqliteDatabase,
  { readonly reader: Database.Database; readonly writer: SqliteWriter.SqliteWriter }
>() {}

const attempt = <A>(filename: string, f: () => A) =>
  Effect.try({
    try: f,
    catch: (e) =>
      new DatabaseUnavailable({
        filename,
        reason: String(e).includes("locked") ? "another engine process holds this data folder" : String(e)
      })
  })

/**
 * One engine process owns a data folder: a second one fails here instead of
 * interleaving writes. The lock is an exclusive SQLite lock on a file beside
 * the database, held until the process ends, so a killed process leaves none.
 */
const lock = (filename: string) =>
  Effect.acquireRelease(
    attempt(filename, () => {
      fs.mkdirSync(path.dirname(filename), { recursive: true })
      const held = new Database(`${filename}.lock`, { timeout: 0 })
      try {
        held.pragma("locking_mode = EXCLUSIVE")
        held.exec("BEGIN IMMEDIATE; COMMIT")
      } catch (e) {
        held.close()
        throw e
      }
      return held
    }),
    (held) => Effect.sync(() => held.close())
  )

const openReader = (filename: string) =>
  Effect.acquireRelease(
    attempt(filename, () => {
      const db = new Database(filename, { timeout: 1000 })
      db.pragma("query_only = ON")
      db.pragma("cache_size = -32768")
      return db
    }),
    (db) => Effect.sync(() => db.close())
  )

export const open = (options: SqliteOptions) =>
  Effect.gen(function* () {
    if (options.filename === ":memory:") {
      return yield* new DatabaseUnavailable({
        filename: options.filename,
        reason: "the embedded store needs a file: its writer thread and its reader open it separately"
      })
    }
    const filename = path.resolve(options.filename)
    yield* lock(filename)
    const synchronous = options.synchronous ?? "FULL"
    const rewind = WalRewind.make()
    const writer = yield* SqliteWriter.start({ filename, synchronous, rewind })
    yield* WalCheckpointer.start({ ...checkpointDefaults, ...options.checkpoints, filename, synchronous, rewind })
    const reader = yield* openReader(filename)
    return { reader, writer }
  })

export const layer = (options: SqliteOptions) => Layer.scoped(SqliteDatabase, open(options))
