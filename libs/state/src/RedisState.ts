import { RedisClient } from "@nudge/redis"
import { Context, Effect, Layer } from "effect"
import { StateStore, StateUnavailable } from "./StateStore.js"
import { type ScheduledTimer, TimerStore } from "./TimerStore.js"


const attempt = <A>(f: () => Promise<A>) =>
  RedisClient.attempt(f).pipe(Effect.mapError((e) => new StateUnavailable({ reason: e.reason })))

/**
 * State in Redis for production: commands issued together are pipelined by
 * node-redis over one connection. Timers are a sorted set by due time, with
 * their payloads in a hash. `prefix` namespaces the keys, so several
 * deployments (or test runs) can share one Redis.
 */
export const layerRedis = (prefix = "nudge:") =>
  Layer.effectContext(
    Effect.gen(function* () {
      const client = yield* RedisClient.RedisClient
      const stateKey = (key: string) => `${prefix}state:${key}`
      const dueSet = `${prefix}timers:due`
      const payloads = `${prefix}timers:payload`
      const state = StateStore.of({
        get: (keys) =>
          keys.length === 0
            ? Effect.succeed(new Map())
            : attempt(() => client.mGet(keys.map(stateKey))).pipe(
                Effect.map((values) => {
                  const found = new Map<string, string>()
                  values.forEach((v, i) => typeof v === "string" && found.set(keys[i]!, v))
                  return found
                })
              ),
        set: (entries) => attempt(() => Promise.all(entries.map(([k, v]) => client.set(stateKey(k), v)))).pipe(Effect.asVoid),
        remove: (keys) => (keys.length === 0 ? Effect.void : attempt(() => client.del(keys.map(stateKey))).pipe(Effect.asVoid))
      })
      const timers = TimerStore.of({
        schedule: (ts) =>
          ts.length === 0
            ? Effect.void
            : attempt(() =>
                client
                  .multi()
                  .zAdd(dueSet, ts.map((t) => ({ score: t.dueAt, value: t.key })))
                  .hSet(payloads, Object.fromEntries(ts.map((t) => [t.key, JSON.stringify([t.userId, t.payload])])))
                  .exec()
              ).pipe(Effect.asVoid),
        due: (now, limit) =>
          attempt(async () => {
            const keys = await client.zRangeByScore(dueSet, "-inf", now, { LIMIT: { offset: 0, count: limit } })
            if (keys.length === 0) return []
            const [scores, values] = await Promise.all([client.zmScore(dueSet, keys), client.hmGet(payloads, keys)])
            return keys.flatMap((key, i): Array<ScheduledTimer> => {
              const raw = values[i]
              const dueAt = scores[i]
              if (typeof raw !== "string" || dueAt === null || dueAt === undefined) return []
              const [userId, payload] = JSON.parse(raw) as [string, string]
              return [{ key, userId, dueAt: Number(dueAt), payload }]
            })
          }),
        remove: (keys) =>
          keys.length === 0
            ? Effect.void
            : attempt(() => client.multi().zRem(dueSet, [...keys]).hDel(payloads, [...keys]).exec()).pipe(Effect.asVoid)
      })
      return Context.make(StateStore, state).pipe(Context.add(TimerStore, timers))
    })
  )
