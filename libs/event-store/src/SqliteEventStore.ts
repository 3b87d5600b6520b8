import { Effect, Layer } from "effect"
import { EventStore, type ProposedEvent } from "./EventStore.js"
import * as LocalLog from "./internal/LocalLog.js"
import * as RecentTail from "./internal/RecentTail.js"
import * as SqliteLog from "./internal/SqliteLog.js"
import { SqliteDatabase } from "./SqliteDatabase.js"

/** Serialized in the caller's thread: strings are the cheapest thing to hand to the writer thread. */
const encode = (event: ProposedEvent): SqliteLog.EncodedEvent => ({
  id: event.id,
  type: event.type,
  data: JSON.stringify(event.data),
  metadata: event.metadata === undefined ? null : JSON.stringify(event.metadata)
})

export const make = Effect.flatMap(SqliteDatabase, ({ reader, writer }) => {
  const tail = RecentTail.make(SqliteLog.reads(reader))
  return LocalLog.make(tail.reads, {
    appendMany: (requests) => {
      const created = Date.now()
      const encoded = requests.map(({ events, expected, stream }) => ({ stream, expected, events: events.map(encode) }))
      return writer.append(encoded, created, (results) => tail.appended(requests, encoded, results, created))
    },
    remove: (stream, expected, status) => writer.remove(stream, expected, status, tail.clear)
  })
})

export const layerSqlite = Layer.effect(EventStore, make)
