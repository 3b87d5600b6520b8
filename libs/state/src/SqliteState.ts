import { SqliteDatabase } from "@nudge/event-store"
import { Context, Effect, Layer } from "effect"
import { StateStore, StateUnavailable } from "./StateStore.js"
import { type ScheduledTimer, TimerStore } from "./TimerStore.js"

const schema = `
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (key TEXT PRIMARY KEY, user_id TEXT NOT NULL, due_at INTEGER NOT NULL, payload TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due_at);
`

const attempt = <A>(f: () => A) => Effect.try({ try: f, catch: (e) => new StateUnavailable({ reason: String(e) }) })

/** State and timers in the embedded database file, beside the events. */
export const layerSqlite = Layer.effectContext(
  Effect.gen(function* () {
    const db = yield* SqliteDatabase.SqliteDatabase
    db.exec(schema)
    const get = db.prepare("SELECT value FROM state WHERE key = ?").pluck()
    const put = db.prepare("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
    const del = db.prepare("DELETE FROM state WHERE key = ?")
    const schedule = db.prepare(
      "INSERT INTO timers (key, user_id, due_at, payload) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload"
    )
    const due = db.prepare("SELECT key, user_id AS userId, due_at AS dueAt, payload FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?")
    const unschedule = db.prepare("DELETE FROM timers WHERE key = ?")
    const synchronous = db.pragma("synchronous", { simple: true }) as number
    /**
     * Everything here can be rebuilt from the log, so its commits skip the
     * fsync event appends pay: the next event commit syncs the WAL, and these
     * frames with it, since the WAL is written in order.
     */
    const write = <A>(items: ReadonlyArray<A>, one: (item: A) => void) =>
      items.length === 0
        ? Effect.void
        : attempt(() => {
            db.pragma("synchronous = NORMAL")
            try {
              db.transaction(() => items.forEach(one))()
            } finally {
              db.pragma(`synchronous = ${synchronous}`)
            }
          })
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
      set: (entries) => write(entries, ([k, v]) => put.run(k, v)),
      remove: (keys) => write(keys, (k) => del.run(k))
    })
    const timers = TimerStore.of({
      schedule: (ts) => write(ts, (t) => schedule.run(t.key, t.userId, t.dueAt, t.payload)),
      due: (now, limit) => attempt(() => due.all(now, limit) as Array<ScheduledTimer>),
      remove: (keys) => write(keys, (k) => unschedule.run(k))
    })
    return Context.make(StateStore, state).pipe(Context.add(TimerStore, timers))
  })
)
