import { SqliteDatabase } from "@nudge/event-store"
import { Context, Effect, Layer } from "effect"
import { StateStore, StateUnavailable } from "./StateStore.js"
import { type ScheduledTimer, TimerStore } from "./TimerStore.js"

/**
 * Rowid tables, not WITHOUT ROWID: snapshots (about 1 KB) and timer payloads are far
 * above the small rows a clustered key suits. Measured with 100k users: a snapshot
 * upsert 111 µs clustered against 20 µs here (and a third of the file size), a timer
 * 59 against 31 µs.
 */
const tables = {
  state: "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  timers: "CREATE TABLE IF NOT EXISTS timers (key TEXT PRIMARY KEY, user_id TEXT NOT NULL, due_at INTEGER NOT NULL, payload TEXT NOT NULL)"
} as const
const timersByDue = "CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due_at)"

/** Data folders made before the change keep their rows: each clustered table is copied into a rowid one. */
const migrations = (sqlOf: (table: string) => string | undefined) =>
  Object.entries(tables).flatMap(([table, create]) =>
    /WITHOUT ROWID/i.test(sqlOf(table) ?? "")
      ? [
          { sql: `ALTER TABLE ${table} RENAME TO ${table}_clustered` },
          { sql: create },
          { sql: `INSERT INTO ${table} SELECT * FROM ${table}_clustered` },
          { sql: `DROP TABLE ${table}_clustered` }
        ]
      : [{ sql: create }]
  )

const put = "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
const del = "DELETE FROM state WHERE key = ?"
const schedule =
  "INSERT INTO timers (key, user_id, due_at, payload) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload"
const unschedule = "DELETE FROM timers WHERE key = ?"

const unavailable = (e: { readonly reason: string } | unknown) =>
  new StateUnavailable({ reason: typeof e === "object" && e !== null && "reason" in e ? String(e.reason) : String(e) })

const attempt = <A>(f: () => A) => Effect.try({ try: f, catch: unavailable })

/**
 * State and timers in the embedded database file, beside the events: read
 * here, written by the database's writer thread. Everything here can be
 * rebuilt from the log, so its commits are not durable on their own.
 */
export const layerSqlite = Layer.effectContext(
  Effect.gen(function* () {
    const { reader, writer } = yield* SqliteDatabase.SqliteDatabase
    const sqlOf = reader.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").pluck()
    yield* writer
      .run([...migrations((table) => sqlOf.get(table) as string | undefined), { sql: timersByDue }], { durable: true })
      .pipe(Effect.mapError(unavailable))
    const get = reader.prepare("SELECT value FROM state WHERE key = ?").pluck()
    const due = reader.prepare("SELECT key, user_id AS userId, due_at AS dueAt, payload FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?")
    const write = <A>(items: ReadonlyArray<A>, sql: string, params: (item: A) => ReadonlyArray<unknown>) =>
      items.length === 0
        ? Effect.void
        : writer.run([{ sql, rows: items.map(params) }], { durable: false }).pipe(Effect.mapError(unavailable))
    const state = StateStore.of({
      get: (keys) =>
        attempt(() => {
          const found = new Map<string, string>()
          for (const k of keys) {
            const v = get.get(k) as string | undefined
            if (v !== undefined) found.set(k, v)
          }
          return found
        }),
      set: (entries) => write(entries, put, ([k, v]) => [k, v]),
      remove: (keys) => write(keys, del, (k) => [k])
    })
    const timers = TimerStore.of({
      schedule: (ts) => write(ts, schedule, (t) => [t.key, t.userId, t.dueAt, t.payload]),
      due: (now, limit) => attempt(() => due.all(now, limit) as Array<ScheduledTimer>),
      remove: (keys) => write(keys, unschedule, (k) => [k])
    })
    return Context.make(StateStore, state).pipe(Context.add(TimerStore, timers))
  })
)
