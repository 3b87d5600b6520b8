import { assert, describe, it } from "@effect/vitest"
import { UserEvent } from "@nudge/domain"
import { MemoryEventStore } from "@nudge/event-store"
import { RedisClient } from "@nudge/redis"
import { Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { Dedup, Ingestor } from "../src/index.js"

const redis = RedisClient.layer(Redacted.make(process.env.REDIS_URL ?? "redis://127.0.0.1:6379"))
const day = 24 * 60 * 60 * 1000
const prefix = `nudge-test-${randomUUID()}:`

/** A fresh engine's ingestion each time: a new in-memory store, the same Redis. */
const freshIngestor = Ingestor.layer.pipe(
  Layer.provide(Dedup.layerRedis(day, prefix)),
  Layer.provide(MemoryEventStore.layerMemory),
  Layer.provideMerge(redis)
)

const tracked = (messageId: string) =>
  new UserEvent.Tracked({
    messageId,
    userId: "dedup-user",
    name: "Viewed Pricing",
    occurredAt: Date.now(),
    receivedAt: Date.now(),
    properties: {},
    context: {}
  })

describe("Dedup in Redis (real server)", () => {
  it.effect("answers a message id accepted by an earlier engine as a duplicate, with its first event id and position", () =>
    Effect.gen(function* () {
      const messageId = `dedup-${randomUUID()}`
      const [first] = yield* Effect.flatMap(Ingestor.Ingestor, (i) => i.accept([tracked(messageId)])).pipe(
        Effect.provide(freshIngestor)
      )
      const [again, fresh] = yield* Effect.flatMap(Ingestor.Ingestor, (i) =>
        i.accept([tracked(messageId), tracked(`${messageId}-other`)])
      ).pipe(Effect.provide(freshIngestor))
      assert.deepInclude(first!, { _tag: "Accepted", duplicate: false })
      assert.deepStrictEqual(again, { ...(first as Ingestor.Accepted), duplicate: true })
      assert.deepInclude(fresh!, { duplicate: false })
    }))

  it.effect("keeps each id for at least the dedup window", () =>
    Effect.gen(function* () {
      const messageId = `ttl-${randomUUID()}`
      yield* Effect.flatMap(Ingestor.Ingestor, (i) => i.accept([tracked(messageId)]))
      const client = yield* RedisClient.RedisClient
      const ttl = yield* RedisClient.attempt(() => client.pTTL(`${prefix}dedup:${messageId}`))
      assert.isAbove(ttl, day - 60_000)
      assert.isAtMost(ttl, day)
    }).pipe(Effect.provide(freshIngestor)))

  it.effect("answers repeats inside one batch as duplicates of the first", () =>
    Effect.gen(function* () {
      const messageId = `batch-${randomUUID()}`
      const outcomes = yield* Effect.flatMap(Ingestor.Ingestor, (i) => i.accept([tracked(messageId), tracked(messageId)]))
      assert.deepStrictEqual(
        outcomes.map((o) => o._tag === "Accepted" && o.duplicate),
        [false, true]
      )
    }).pipe(Effect.provide(freshIngestor)))
})
