import { EventStore, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { Effect, Layer } from "effect"
import * as path from "node:path"

/** Everything an engine stored in its data folder, read straight from the file after the engine stopped. */
export const read = (dataDir: string, streamPrefixes?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    return yield* store.readAll({ maxCount: 10_000_000, ...(streamPrefixes === undefined ? {} : { streamPrefixes }) })
  }).pipe(
    Effect.provide(SqliteEventStore.layerSqlite.pipe(Layer.provide(SqliteDatabase.layer({ filename: path.join(dataDir, "events.db") }))))
  )
