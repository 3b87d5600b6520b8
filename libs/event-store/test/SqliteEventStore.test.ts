import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { EventStore, SqliteDatabase, SqliteEventStore } from "../src/index.js"
import { eventStoreContract } from "./EventStoreContract.js"

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-sqlite-")), "events.db")

const layerAt = (filename: string) =>
  SqliteEventStore.layerSqlite.pipe(Layer.provide(SqliteDatabase.layer({ filename })))

eventStoreContract("embedded SQLite", layerAt(tempFile()))

describe("SqliteEventStore durability", () => {
  it.effect("keeps appended events and positions across a reopen", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const first = yield* Effect.gen(function* () {
        const store = yield* EventStore
        return yield* store.append("user-1", [{ id: "8d1b3a3e-0000-4000-8000-000000000001", type: "E", data: { a: 1 } }], "any")
      }).pipe(Effect.provide(layerAt(filename)))
      const reopened = yield* Effect.gen(function* () {
        const store = yield* EventStore
        const again = yield* store.append("user-1", [{ id: "8d1b3a3e-0000-4000-8000-000000000001", type: "E", data: { a: 1 } }], "any")
        const next = yield* store.append("user-1", [{ id: "8d1b3a3e-0000-4000-8000-000000000002", type: "E", data: { a: 2 } }], 0n)
        return { again, next, events: yield* store.read("user-1") }
      }).pipe(Effect.provide(layerAt(filename)))
      assert.isTrue(reopened.again.events[0]!.duplicate)
      assert.deepStrictEqual(reopened.events.map((e) => e.data), [{ a: 1 }, { a: 2 }])
      assert.isTrue(reopened.next.events[0]!.position.commit > first.events[0]!.position.commit)
    }))

  it.effect("refuses a second process-level owner of the same file", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const result = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* SqliteDatabase.open({ filename })
          return yield* Effect.either(SqliteDatabase.open({ filename }))
        })
      )
      assert.strictEqual(result._tag, "Left")
    }))
})
