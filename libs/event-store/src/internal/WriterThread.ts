import Database from "better-sqlite3"
import { Schema } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import * as LocalLog from "./LocalLog.js"
import * as SqliteLog from "./SqliteLog.js"
import * as WalRewind from "./WalRewind.js"
import {
  AppendErrorWire,
  flattenResults,
  type Statement,
  unflattenAppends,
  type WriterConfig,
  type WriterReply,
  type WriterRequest
} from "./WriterProtocol.js"

/**
 * The one connection that writes the embedded database, on a thread of its
 * own: a durable commit costs CPU (page images, checksums) and an fsync, and
 * here neither stops the engine's event loop.
 */
const config = workerData as WriterConfig
const port = parentPort!

const busyTimeoutMs = 1000

const openDatabase = () => {
  const db = new Database(config.filename, { timeout: busyTimeoutMs })
  db.pragma("journal_mode = WAL")
  db.pragma(`synchronous = ${config.synchronous}`)
  // Appends across thousands of user streams dirty index pages all over the file: keep them cached.
  db.pragma("cache_size = -65536")
  // The checkpointer thread copies the WAL back; this commit-time copy (256 MiB) only bounds it should that thread stop.
  db.pragma("wal_autocheckpoint = 65536")
  return db
}

/**
 * Copies what is left of the WAL and has the next commit start it over. A
 * reader still on an older snapshot makes the rewind wait for it: without
 * the busy timeout it returns at once instead (busy), and the checkpointer
 * asks again a round later, so a long read elsewhere never holds commits
 * back.
 */
const rewind = (db: Database.Database) => {
  db.pragma("busy_timeout = 0")
  try {
    db.pragma("wal_checkpoint(RESTART)")
  } catch {
    // Reported by the next commit, which meets the same error.
  } finally {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`)
    WalRewind.done(config.rewind)
  }
}

const serve = (db: Database.Database) => {
  const log = SqliteLog.writes(db)
  const writer = LocalLog.writer(log)
  const encodeError = Schema.encodeSync(AppendErrorWire)
  const statements = new Map<string, Database.Statement>()
  const statement = (sql: string) => {
    let s = statements.get(sql)
    if (s === undefined) statements.set(sql, (s = db.prepare(sql)))
    return s
  }
  const runOne = ({ rows, sql }: Statement) => {
    if (rows === undefined) return void db.exec(sql)
    const prepared = statement(sql)
    for (const params of rows) prepared.run(...params)
  }
  /**
   * Derived state can be rebuilt from the log, so its commits skip the
   * fsync: the next durable commit syncs the WAL, and these frames with it,
   * since the WAL is written in order.
   */
  const run = (batch: ReadonlyArray<Statement>, durable: boolean) => {
    if (!durable) db.pragma("synchronous = NORMAL")
    try {
      db.transaction(() => batch.forEach(runOne))()
    } finally {
      if (!durable) db.pragma(`synchronous = ${config.synchronous}`)
    }
  }
  const handle = (request: WriterRequest): unknown => {
    switch (request.op) {
      case "append":
        return flattenResults(
          writer.appendMany(unflattenAppends(request.requests), request.created).map((r) => ("_tag" in r ? encodeError(r) : r))
        )
      case "remove": {
        const error = writer.remove(request.stream, request.expected, request.status)
        return error === undefined ? undefined : encodeError(error)
      }
      case "run":
        return run(request.statements, request.durable)
      case "close":
        db.close()
        port.close()
        return undefined
    }
  }
  port.on("message", (request: WriterRequest) => {
    let reply: WriterReply
    try {
      reply = { id: request.id, ok: true, value: handle(request) }
    } catch (e) {
      reply = { id: request.id, ok: false, reason: String(e) }
    }
    if (request.op === "close") return
    port.postMessage(reply)
    // After the reply, so the rewind's last copies do not delay the acknowledgement.
    if (WalRewind.requested(config.rewind)) rewind(db)
  })
}

try {
  serve(openDatabase())
  port.postMessage({ ready: true })
} catch (e) {
  port.postMessage({ ready: false, reason: String(e) })
}
