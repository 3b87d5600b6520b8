import { EventStoreDbEventStore, GroupCommit, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { Dedup, Ingestor } from "@nudge/ingest"
import { RedisClient } from "@nudge/redis"
import { RedisState, SqliteState, type StateStore, type StateUnavailable, type TimerStore } from "@nudge/state"
import { Layer, Option, Redacted } from "effect"
import * as path from "node:path"
import type { EngineConfig } from "./EngineConfig.js"

const databaseFile = (config: EngineConfig) => path.join(config.dataDir, "events.db")

/** Where events, dedup and state live, chosen by configuration alone. */
export const storeDescription = (config: EngineConfig) =>
  Option.isSome(config.eventStoreConnection) ? "eventstoredb" : `embedded (${databaseFile(config)})`

/**
 * Embedded: events, state and timers in one SQLite file. Production:
 * events in EventStoreDB; dedup, state and timers in Redis. Each store can
 * be chosen on its own (Redis beside the embedded event store works too).
 */
export const layer = (config: EngineConfig) => {
  const database = SqliteDatabase.layer({ filename: databaseFile(config) })
  const events = GroupCommit.layer.pipe(
    Layer.provide(
      Option.match(config.eventStoreConnection, {
        onNone: () => SqliteEventStore.layerSqlite.pipe(Layer.provide(database)),
        onSome: (url) => EventStoreDbEventStore.layerEventStoreDb(Redacted.value(url))
      })
    )
  )
  const derived: Layer.Layer<
    Dedup.Dedup | StateStore | TimerStore,
    SqliteDatabase.DatabaseUnavailable | StateUnavailable | RedisClient.RedisUnavailable
  > = Option.match(config.redisUrl, {
    onNone: () => Layer.merge(Dedup.layerStore, SqliteState.layerSqlite.pipe(Layer.provide(database))),
    onSome: (url) => {
      const redis = RedisClient.layer(url)
      return Layer.merge(
        Dedup.layerRedis(config.limits.dedupWindowMs, config.redisPrefix).pipe(Layer.provide(redis)),
        RedisState.layerRedis(config.redisPrefix).pipe(Layer.provide(redis))
      )
    }
  })
  return Ingestor.layer.pipe(Layer.provideMerge(Layer.merge(events, derived)))
}
