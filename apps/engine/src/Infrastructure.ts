import { EventStoreDbEventStore, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { Appender, Dedup, Ingestor } from "@nudge/ingest"
import { RedisClient } from "@nudge/redis"
import { Layer, Option, Redacted } from "effect"
import * as path from "node:path"
import type { EngineConfig } from "./EngineConfig.js"

/** Where events, dedup and state live, chosen by configuration alone. */
export const storeDescription = (config: EngineConfig) =>
  Option.isSome(config.eventStoreConnection) ? "eventstoredb" : `embedded (${path.join(config.dataDir, "events.db")})`

const eventStore = (config: EngineConfig) =>
  Option.match(config.eventStoreConnection, {
    onNone: () =>
      SqliteEventStore.layerSqlite.pipe(
        Layer.provide(SqliteDatabase.layer({ filename: path.join(config.dataDir, "events.db") }))
      ),
    onSome: (url) => EventStoreDbEventStore.layerEventStoreDb(Redacted.value(url))
  })

const dedup = (config: EngineConfig) =>
  Option.match(config.redisUrl, {
    onNone: () => Dedup.layerStore,
    onSome: (url) => Dedup.layerRedis(config.limits.dedupWindowMs).pipe(Layer.provide(RedisClient.layer(url)))
  })

export const layer = (config: EngineConfig) => {
  const store = eventStore(config)
  const ingest = Ingestor.layer.pipe(Layer.provide(Appender.layer), Layer.provide(dedup(config)))
  return ingest.pipe(Layer.provideMerge(store))
}
