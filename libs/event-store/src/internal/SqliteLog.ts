import type Database from "better-sqlite3"
import type { Position, RecordedEvent } from "../EventStore.js"
import type * as LocalLog from "./LocalLog.js"

export const schema = `
CREATE TABLE IF NOT EXISTS streams (
  name TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  status TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT,
  created INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
`

/** An event as the writer thread receives it: serialized by the caller, so only strings cross threads. */
export interface EncodedEvent {
  readonly id: string
  readonly type: string
  readonly data: string
  readonly metadata: string | null
}

interface Row {
  position: bigint
  stream: string
  revision: bigint
  id: string
  type: string
  data: string
  metadata: string | null
  created: bigint
}

const toRecorded = (row: Row): RecordedEvent => {
  const position: Position = { commit: row.position, prepare: row.position }
  return {
    id: row.id,
    stream: row.stream,
    type: row.type,
    revision: row.revision,
    position,
    data: JSON.parse(row.data),
    metadata: row.metadata === null ? null : JSON.parse(row.metadata),
    created: Number(row.created)
  }
}

const prepared = (db: Database.Database) => (sql: string) => db.prepare(sql).safeIntegers(true)

const loadStream = (db: Database.Database) => {
  const prepare = prepared(db)
  const selectStream = prepare("SELECT revision, status FROM streams WHERE name = ?")
  const selectLastRevision = prepare("SELECT MAX(revision) AS revision FROM events WHERE stream = ?")
  return (stream: string): LocalLog.StreamState | undefined => {
    const row = selectStream.get(stream) as LocalLog.StreamState | undefined
    const last = (selectLastRevision.get(stream) as { revision: bigint | null }).revision
    if (row === undefined && last === null) return undefined
    const revision = last !== null && (row === undefined || last > row.revision) ? last : row!.revision
    return { revision, status: row?.status ?? "live" }
  }
}

const lastAllocated = (db: Database.Database) => {
  const lastPosition = prepared(db)("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
  // Positions start at 1, so 0 means "nothing yet"; deleted events keep their positions allocated.
  return () => (lastPosition.get() as { seq: bigint } | undefined)?.seq ?? 0n
}

/** Reads on a connection of their own; the writer may move any stream's head at any time, so nothing is cached. */
export const reads = (db: Database.Database): LocalLog.LogReads => {
  const prepare = prepared(db)
  const forwards = prepare("SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?")
  const backwards = prepare("SELECT * FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?")
  const fromLast = prepare("SELECT * FROM events WHERE stream = ? ORDER BY revision DESC LIMIT ?")
  const status = prepare("SELECT status FROM streams WHERE name = ?").pluck()
  const all = prepare("SELECT * FROM events WHERE position > ? ORDER BY position ASC LIMIT ?")
  // Filtering in SQL keeps the rows of other streams (most of the log, for a decisions watcher) out of JavaScript.
  // SQLite measures the prefix itself: substr counts characters, and a JavaScript length counts UTF-16 units, two
  // for each character beyond the Basic Multilingual Plane (an emoji), so such a prefix would never match.
  const byPrefixCount = new Map<number, Database.Statement>()
  const filtered = (count: number) => {
    let statement = byPrefixCount.get(count)
    if (statement === undefined) {
      const any = Array.from({ length: count }, () => "substr(stream, 1, length(?)) = ?").join(" OR ")
      statement = prepare(`SELECT * FROM events WHERE position > ? AND (${any}) ORDER BY position ASC LIMIT ?`)
      byPrefixCount.set(count, statement)
    }
    return statement
  }
  const head = lastAllocated(db)
  return {
    tombstoned: (stream) => status.get(stream) === "tombstoned",
    readStream: (stream, from, direction, maxCount) => {
      const rows =
        direction === "forwards"
          ? forwards.all(stream, from ?? 0n, maxCount)
          : from === undefined
            ? fromLast.all(stream, maxCount)
            : backwards.all(stream, from, maxCount)
      return (rows as Array<Row>).map(toRecorded)
    },
    readAll: (after, maxCount, filter) => {
      // The head first: the writer thread commits while this reads, and a head read after the page could name
      // positions the page never saw, which the follower would then skip.
      const allocated = head()
      const prefixes = filter.streamPrefixes ?? []
      const rows = (
        prefixes.length === 0 ? all.all(after, maxCount) : filtered(prefixes.length).all(after, ...prefixes.flatMap((p) => [p, p]), maxCount)
      ) as Array<Row>
      const last = rows.at(-1)?.position ?? after
      return {
        events: rows.map(toRecorded),
        // A short page read to the end: what was allocated up to the head taken before it is gone (deleted), or
        // matched no filter, so skip past it.
        scannedTo: rows.length < maxCount && allocated > last ? allocated : last
      }
    },
    head
  }
}

/** The writer's log: it alone writes the file, so stream heads can be cached; a failed transaction drops the cache. */
export const writes = (db: Database.Database): LocalLog.LocalLog<EncodedEvent> => {
  db.exec(schema)
  const prepare = prepared(db)
  const upsertStream = prepare(
    "INSERT INTO streams (name, revision, status) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET revision = excluded.revision, status = excluded.status"
  )
  const selectById = prepare("SELECT stream, revision, position FROM events WHERE id = ?")
  const insert = prepare(
    "INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)"
  )
  const deleteStream = prepare("DELETE FROM events WHERE stream = ?")
  const load = loadStream(db)
  const heads = new Map<string, LocalLog.StreamState>()
  const head = (stream: string) => {
    const cached = heads.get(stream)
    if (cached !== undefined) return cached
    const loaded = load(stream)
    if (loaded !== undefined) remember(stream, loaded)
    return loaded
  }
  const remember = (stream: string, state: LocalLog.StreamState) => {
    if (heads.size >= 100_000) heads.clear()
    heads.set(stream, state)
  }
  return {
    stream: head,
    findEvent: (id) => selectById.get(id) as LocalLog.StoredRef | undefined,
    insert: (stream, revision, event, created) =>
      insert.run(stream, revision, event.id, event.type, event.data, event.metadata, created).lastInsertRowid as bigint,
    // The streams table records deletes; a live stream's revision is its last event's, so plain appends skip it.
    setStream: (stream, state) => {
      if (state.status !== "live" || head(stream)?.status !== "live") upsertStream.run(stream, state.revision, state.status)
      remember(stream, state)
    },
    deleteEvents: (stream) => void deleteStream.run(stream),
    transaction: (f) => {
      try {
        return db.transaction(f).immediate()
      } catch (e) {
        heads.clear()
        throw e
      }
    }
  }
}
