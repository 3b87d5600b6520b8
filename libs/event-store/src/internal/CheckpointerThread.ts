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

/** `busy` is 1 when another connection held the checkpoint; the counts are then -1. */
interface Progress {
  readonly busy: number
  readonly log: number
  readonly checkpointed: number
}

const db = new Database(config.filename)
// With SQLite's syncs on, a copy syncs the WAL before writing its frames into the database file, and syncs that
// file once it has copied the whole WAL, which a rewind requires: so a rewind loses nothing that was not on disk.
db.pragma(`synchronous = ${config.synchronous}`)

const copy = () => (db.pragma("wal_checkpoint(PASSIVE)") as Array<Progress>)[0]!

const left = (progress: Progress) => progress.log - progress.checkpointed

/** The WAL's length when the last rewind was asked for. */
let rewoundAt = -1

/**
 * A PASSIVE copy never blocks the writer, but under steady commits it seldom
 * finds nothing left to copy at the writer's next commit, which is when
 * SQLite starts the WAL file over by itself (the counts it returns describe
 * the WAL as the copy began, so they cannot tell). So once the WAL is long,
 * the frames committed meanwhile are copied again until few remain, and the
 * writer is asked to copy those few and rewind; once the WAL is twice as
 * long, or after eight copies, it is asked however many remain, so a write
 * rate faster than the copies still cannot push the WAL to the backstop. A
 * WAL of the same length as at the last request has had no commit since, so
 * the rewind is done and only waits for the next commit to take effect.
 * Nothing is copied here while a rewind is asked for: two copies at once
 * would wait on each other. Returns the WAL's length, unknown while a
 * rewind is asked for or another connection is copying.
 */
const round = (): number | undefined => {
  if (WalRewind.requested(config.rewind)) return undefined
  let progress = copy()
  if (progress.busy === 1) return undefined
  if (progress.log < config.rewindFrames || progress.log === rewoundAt) return progress.log
  for (let pass = 0; pass < 8 && left(progress) > config.remainderFrames && progress.log < 2 * config.rewindFrames; pass++) {
    progress = copy()
    if (progress.busy === 1) return undefined
  }
  rewoundAt = progress.log
  WalRewind.request(config.rewind)
  return progress.log
}

/**
 * A round a second suits a WAL that grows by a few MiB a second (16-32 at
 * 2,000 events/s). At a rate that would add the rewind length in a second
 * (over 100 MiB a second under bulk ingestion), rounds come ten times as
 * often, until ten of them in a row have seen it grow slower, so the WAL is
 * rewound near that length instead of seconds past it (150 MB at most in
 * bench:e2e's throughput phase, 276 MB with a round a second). Not always
 * that often: each copy ends with an fsync of the database file, and five a
 * second slowed the writer's own.
 */
let reported: string | undefined
let timer: NodeJS.Timeout
let last = { log: 0, at: performance.now() }
let slowRounds = 10
const schedule = (delayMs: number) => {
  timer = setTimeout(() => {
    let log: number | undefined
    try {
      log = round()
      reported = undefined
    } catch (e) {
      const failed = String(e)
      // A failure that repeats every round is reported once, until another one or a round that succeeds.
      if (failed !== reported) port.postMessage({ failed })
      reported = failed
    }
    if (log !== undefined) {
      const at = performance.now()
      // A shorter WAL than last time was started over since: all of it is new.
      const grown = log >= last.log ? log - last.log : log
      const fast = (grown / Math.max(1, at - last.at)) * config.intervalMs >= config.rewindFrames
      slowRounds = fast ? 0 : slowRounds + 1
      last = { log, at }
    }
    schedule(slowRounds >= 10 ? config.intervalMs : config.intervalMs / 10)
  }, delayMs)
}
schedule(config.intervalMs)

port.on("message", () => {
  clearTimeout(timer)
  db.close()
  port.close()
})
port.postMessage({ ready: true })
