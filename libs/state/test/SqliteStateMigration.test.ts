import { assert, describe, it } from "@effect/vitest"
import { SqliteDatabase } from "@nudge/event-store"
import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SqliteState, StateStore, TimerStore } from "../src/index.js"

/** The tables as data folders made before the rowid change have them. */
const clustered = `
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE timers (key TEXT PRIMARY KEY, user_id TEXT NOT NULL, due_at INTEGER NOT NULL, payload TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX timers_by_due ON timers (due_at);
INSERT INTO state VALUES ('checkpoint:actors', '42'), ('snapshot:u1', '{"userId":"u1"}');
INSERT INTO timers VALUES ('u1|r1|100', 'u1', 100, 'due');
`

describe("embedded state tables", () => {
  it.effect("keeps the rows of a data folder made with clustered tables, now in rowid tables", () =>
    Effect.gen(function* () {
      const filename = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-state-migration-")), "events.db")
      const old = new Database(filename)
      old.pragma("journal_mode = WAL")
      old.exec(clustered)
      old.close()

      const read = Effect.gen(function* () {
        const state = yield* StateStore
        const timers = yield* TimerStore
        return {
          values: [...(yield* state.get(["checkpoint:actors", "snapshot:u1"])).entries()],
          due: (yield* timers.due(1_000, 10)).map((t) => [t.key, t.userId, t.dueAt, t.payload])
        }
      })
      const layer = SqliteState.layerSqlite.pipe(Layer.provide(SqliteDatabase.layer({ filename })))
      const expected = {
        values: [
          ["checkpoint:actors", "42"],
          ["snapshot:u1", '{"userId":"u1"}']
        ],
        due: [["u1|r1|100", "u1", 100, "due"]]
      }
      assert.deepStrictEqual(yield* read.pipe(Effect.provide(layer)), expected)
      // Opened a second time, the migrated tables are left as they are.
      assert.deepStrictEqual(yield* read.pipe(Effect.provide(layer)), expected)

      const db = new Database(filename, { readonly: true })
      const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('state', 'timers') ORDER BY name").all() as Array<{ name: string; sql: string }>
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'timers' AND sql IS NOT NULL").pluck().all()
      db.close()
      assert.deepStrictEqual(tables.map((t) => t.name), ["state", "timers"])
      assert.isTrue(tables.every((t) => !/WITHOUT ROWID/i.test(t.sql)), tables.map((t) => t.sql).join("\n"))
      assert.deepStrictEqual(indexes, ["timers_by_due"])
    }))
})
