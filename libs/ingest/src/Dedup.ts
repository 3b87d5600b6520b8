import { RedisClient } from "@nudge/redis"
import { Context, Effect, Layer } from "effect"

export interface Remembered {
  readonly eventId: string
  readonly position: string
}

/**
 * The index of producer message ids already accepted. Stores that never
 * append an event id twice (the embedded one) need none: the store answers
 * retries itself, atomically with the append. EventStoreDB only ignores
 * recent retries, so production keeps this index in Redis for the dedup
 * window.
 */
export class Dedup extends Context.Tag("@nudge/ingest/Dedup")<
  Dedup,
  {
    readonly lookup: (messageIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, Remembered>, RedisClient.RedisUnavailable>
    readonly remember: (entries: ReadonlyArray<readonly [string, Remembered]>) => Effect.Effect<void, RedisClient.RedisUnavailable>
  }
>() {}

export const layerStore = Layer.succeed(Dedup, {
  lookup: () => Effect.succeed(new Map()),
  remember: () => Effect.void
})

/** `prefix` namespaces the keys, so several deployments (or test runs) can share one Redis. */
export const layerRedis = (windowMs: number, prefix = "nudge:") =>
  Layer.effect(
    Dedup,
    Effect.map(RedisClient.RedisClient, (client) => {
      const keyOf = (messageId: string) => `${prefix}dedup:${messageId}`
      return {
      lookup: (messageIds) =>
        messageIds.length === 0
          ? Effect.succeed(new Map())
          : RedisClient.attempt(() => client.mGet(messageIds.map(keyOf))).pipe(
              Effect.map((values) => {
                const found = new Map<string, Remembered>()
                values.forEach((v, i) => {
                  if (typeof v === "string") {
                    const [eventId, position] = v.split(" ")
                    found.set(messageIds[i]!, { eventId: eventId!, position: position! })
                  }
                })
                return found
              })
            ),
      remember: (entries) =>
        RedisClient.attempt(() =>
          Promise.all(
            entries.map(([messageId, r]) =>
              client.set(keyOf(messageId), `${r.eventId} ${r.position}`, { expiration: { type: "PX", value: windowMs } })
            )
          )
        ).pipe(Effect.asVoid)
      }
    })
  )
