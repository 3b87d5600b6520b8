/**
 * A writer for the crash test: appends batches as fast as they are acknowledged,
 * with WAL checkpoints and rewinds made frequent, and prints each acknowledged
 * batch so the test knows what must survive the SIGKILL it sends.
 */
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { EventStore, SqliteDatabase, SqliteEventStore } from "../../src/index.js"

const filename = process.argv[2]!
const payload = "x".repeat(1_000)

const appendForever = Effect.gen(function* () {
  const store = yield* EventStore
  for (let batch = 0; ; batch++) {
    yield* store.appendMany([
      { stream: `user-${batch % 7}`, events: Array.from({ length: 10 }, (_, i) => ({ id: randomUUID(), type: "E", data: { batch, i, payload } })), expected: "any" }
    ])
    process.stdout.write(`acked ${batch}\n`)
  }
})

Effect.runPromise(
  appendForever.pipe(
    Effect.provide(
      SqliteEventStore.layerSqlite.pipe(
        Layer.provide(SqliteDatabase.layer({ filename, checkpoints: { intervalMs: 5, rewindFrames: 128, remainderFrames: 16 } }))
      )
    )
  )
).catch((e) => {
  console.error(e)
  process.exit(1)
})
