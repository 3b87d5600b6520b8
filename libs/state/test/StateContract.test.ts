import { assert, describe, it } from "@effect/vitest"
import { SqliteDatabase } from "@nudge/event-store"
import { RedisClient } from "@nudge/redis"
import { Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { RedisState, SqliteState, StateStore, TimerStore } from "../src/index.js"

const contract = (name: string, layer: Layer.Layer<StateStore | TimerStore, unknown>) =>
  describe(`state contract: ${name}`, () => {
    it.effect("sets, gets and removes values by key", () =>
      Effect.gen(function* () {
        const store = yield* StateStore
        const a = `a-${randomUUID()}`
        const b = `b-${randomUUID()}`
        yield* store.set([
          [a, "1"],
          [b, "2"]
        ])
        yield* store.set([[a, "3"]])
        assert.deepStrictEqual([...(yield* store.get([a, b, "missing"])).entries()], [
          [a, "3"],
          [b, "2"]
        ])
        yield* store.remove([a])
        assert.deepStrictEqual([...(yield* store.get([a, b])).keys()], [b])
      }).pipe(Effect.provide(layer)))

    it.effect("returns due timers earliest first, replaces a rescheduled key, forgets removed ones", () =>
      Effect.gen(function* () {
        const timers = yield* TimerStore
        const id = randomUUID()
        // Far in the past, so nothing another test scheduled sorts before them.
        const base = -1e12 - Math.floor(Math.random() * 1e9)
        yield* timers.schedule([
          { key: `${id}-late`, userId: "u1", dueAt: base + 300, payload: "late" },
          { key: `${id}-early`, userId: "u2", dueAt: base + 100, payload: "early" },
          { key: `${id}-moved`, userId: "u3", dueAt: base + 200, payload: "moved" }
        ])
        yield* timers.schedule([{ key: `${id}-moved`, userId: "u3", dueAt: base + 10_000, payload: "moved again" }])
        const due = (yield* timers.due(base + 500, 100)).filter((t) => t.key.startsWith(id))
        assert.deepStrictEqual(
          due.map((t) => [t.payload, t.userId, t.dueAt]),
          [
            ["early", "u2", base + 100],
            ["late", "u1", base + 300]
          ]
        )
        yield* timers.remove(due.map((t) => t.key).concat(`${id}-moved`))
        assert.deepStrictEqual((yield* timers.due(base + 20_000, 100)).filter((t) => t.key.startsWith(id)), [])
      }).pipe(Effect.provide(layer)))
  })

contract("embedded SQLite", SqliteState.layerSqlite.pipe(Layer.provide(SqliteDatabase.layer({ filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-state-")), "events.db") }))))
contract(
  "Redis (real server)",
  RedisState.layerRedis(`nudge-test-${randomUUID()}:`).pipe(Layer.provide(RedisClient.layer(Redacted.make(process.env.REDIS_URL ?? "redis://127.0.0.1:6379"))))
)
