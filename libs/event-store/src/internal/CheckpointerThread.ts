import Database from "better-sqlite3"
import { parentPort, workerData } from "node:worker_threads"
import type { CheckpointerConfig } from "./CheckpointerConfig.js"
import * as WalRewind from "./WalRewind.js"

/**
 * Copies the embedded database's WAL back into the database file, beside the
 * writer thread instead of inside one of its commits. SQLite's own automatic
 * checkpoint runs in the commit that crosses its threshold: 64 MiB of page
 * copies and an fsync there held every acknowledgement behind it for
 * 80-300 ms (measured in bench:e2e's latency phase).
 */
const config = workerData as CheckpointerConfig
const port = parentPort!

interface Progress {
  readonly log: number
  readonly checkpointed: number
}

const db = new Database(config.filename)
// Each copy syncs the WAL, then the database file: the rewind, which overwrites the WAL, then loses nothing not on disk.
db.pragma(`synchronous = ${config.synchronous}`)

const copy = () => (db.pragma("wal_checkpoint(PASSIVE)") as Array<Progress>)[0]!

/**
 * A PASSIVE copy never blocks the writer, but under steady commits it seldom
 * finds nothing left to copy, which is when SQLite starts the WAL file over.
 * So once the WAL is long, the frames committed meanwhile are copied again
 * until few remain, and the writer is asked to copy those few and rewind.
 * Nothing is copied here until it has: two copies at once would wait on
 * each other.
 */
const round = () => {
  if (WalRewind.requested(config.rewind)) return
  let progress = copy()
  if (progress.log < config.rewindFrames) return
  for (let pass = 0; pass < 8 && progress.log - progress.checkpointed > config.remainderFrames; pass++) progress = copy()
  if (progress.log - progress.checkpointed <= config.remainderFrames) WalRewind.request(config.rewind)
}

const timer = setInterval(() => {
  try {
    round()
  } catch (e) {
    port.postMessage({ failed: String(e) })
  }
}, config.intervalMs)

port.on("message", () => {
  clearInterval(timer)
  db.close()
  port.close()
})
port.postMessage({ ready: true })
