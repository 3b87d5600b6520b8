import { EventStore, type ProposedEvent, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { Effect, Layer } from "effect"
import * as path from "node:path"

const inDataDir = (dataDir: string) =>
  SqliteEventStore.layerSqlite.pipe(Layer.provide(SqliteDatabase.layer({ filename: path.join(dataDir, "events.db") })))

/** Everything an engine stored in its data folder, read straight from the file after the engine stopped. */
export const read = (dataDir: string, streamPrefixes?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    return yield* store.readAll({ maxCount: 10_000_000, ...(streamPrefixes === undefined ? {} : { streamPrefixes }) })
  }).pipe(Effect.provide(inDataDir(dataDir)))

/** Appends to a data folder no engine holds: history as an earlier engine version could have written it. */
export const append = (dataDir: string, stream: string, events: ReadonlyArray<ProposedEvent>) =>
  Effect.flatMap(EventStore, (store) => store.append(stream, events, "any")).pipe(Effect.provide(inDataDir(dataDir)))
