import { Effect, Layer } from "effect"
import { type AppendRequest, EventStore, type ProposedEvent, StoreUnavailable } from "./EventStore.js"
import * as LocalLog from "./internal/LocalLog.js"
import * as RecentTail from "./internal/RecentTail.js"
import * as SqliteLog from "./internal/SqliteLog.js"
import { SqliteDatabase } from "./SqliteDatabase.js"

/** JSON.stringify answers undefined for undefined, a function or a symbol, which the database cannot hold as JSON. */
const toJson = (value: unknown): string => {
  const json = JSON.stringify(value)
  if (json === undefined) throw new TypeError(`${typeof value} has no JSON form`)
  return json
}

/** Serialized in the caller's thread: strings are the cheapest thing to hand to the writer thread. */
const encode = (event: ProposedEvent): SqliteLog.EncodedEvent => ({
  id: event.id,
  type: event.type,
  data: toJson(event.data),
  metadata: event.metadata === undefined ? null : toJson(event.metadata)
})

/** A value JSON cannot hold (a BigInt, a cycle) fails the appends it came with, before anything is written. */
const encodeAll = (requests: ReadonlyArray<AppendRequest>) =>
  Effect.try({
    try: () => requests.map(({ events, expected, stream }) => ({ stream, expected, events: events.map(encode) })),
    catch: (e) => new StoreUnavailable({ reason: `an event cannot be stored as JSON: ${String(e)}` })
  })

export const make = Effect.flatMap(SqliteDatabase, ({ reader, writer }) => {
  const tail = RecentTail.make(SqliteLog.reads(reader))
  return LocalLog.make(tail.reads, {
    appendMany: (requests) =>
      Effect.flatMap(encodeAll(requests), (encoded) => {
        const created = Date.now()
        return writer.append(encoded, created, (results) => tail.appended(requests, encoded, results, created))
      }),
    remove: (stream, expected, status) => writer.remove(stream, expected, status, tail.clear)
  })
})

export const layerSqlite = Layer.effect(EventStore, make)
