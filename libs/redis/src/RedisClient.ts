import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { createClient } from "redis"

export type Client = ReturnType<typeof createClient>

export class RedisUnavailable extends Schema.TaggedError<RedisUnavailable>()("RedisUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `redis unavailable: ${this.reason}`
  }
}

/** One connection per engine process: node-redis pipelines concurrent commands over it. */
export class RedisClient extends Context.Tag("@nudge/redis/RedisClient")<RedisClient, Client>() {}

export const connect = (url: Redacted.Redacted<string>) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = createClient({ url: Redacted.value(url), socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2000) } })
        client.on("error", () => {
          // Reconnection is automatic; commands issued meanwhile fail and surface as RedisUnavailable.
        })
        await client.connect()
        return client
      },
      catch: (e) => new RedisUnavailable({ reason: String(e) })
    }),
    (client) => Effect.promise(() => client.close()).pipe(Effect.ignore)
  )

export const layer = (url: Redacted.Redacted<string>) => Layer.scoped(RedisClient, connect(url))

export const attempt = <A>(f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (e) => new RedisUnavailable({ reason: String(e) }) })
