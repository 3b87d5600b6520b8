import { Chunk, Effect, Stream } from "effect"
import {
  type AllFilter,
  type AppendedEvent,
  type AppendError,
  type AppendRequest,
  type AppendResult,
  type Direction,
  type EventStore,
  type ExpectedRevision,
  formatExpected,
  Position,
  type ProposedEvent,
  type RecordedEvent,
  StoreUnavailable,
  StreamDeleted,
  WrongExpectedRevision
} from "../EventStore.js"

export type StreamStatus = "live" | "deleted" | "tombstoned"

export interface StreamState {
  /** The last revision ever written, -1 when none; kept across a soft delete so revisions continue. */
  readonly revision: bigint
  readonly status: StreamStatus
}

export interface StoredRef {
  readonly stream: string
  readonly revision: bigint
  readonly position: bigint
}

export interface Page {
  readonly events: ReadonlyArray<RecordedEvent>
  /** How far the read looked, matches or not: the next read starts after it. */
  readonly scannedTo: bigint
}

/** What a reader of a single-process store needs: no writes, so it can run on its own connection. */
export interface LogReads {
  readonly tombstoned: (stream: string) => boolean
  /** `from` undefined: from the first (forwards) or the last (backwards) event. */
  readonly readStream: (
    stream: string,
    from: bigint | undefined,
    direction: Direction,
    maxCount: number
  ) => ReadonlyArray<RecordedEvent>
  readonly readAll: (after: bigint, maxCount: number, filter: AllFilter) => Page
  readonly head: () => bigint
}

/**
 * The synchronous write primitives of a single-process store; `P` is the
 * event as the log stores it (the SQLite log takes it already serialized).
 * The rules of the port (expected revisions, idempotent ids, deletes,
 * catch-up subscriptions) are written once, here, over them and `LogReads`.
 */
export interface LocalLog<P extends { readonly id: string }> {
  readonly stream: (stream: string) => StreamState | undefined
  readonly findEvent: (id: string) => StoredRef | undefined
  readonly insert: (stream: string, revision: bigint, event: P, created: number) => bigint
  readonly setStream: (stream: string, state: StreamState) => void
  readonly deleteEvents: (stream: string) => void
  readonly transaction: <A>(f: () => A) => A
}

export interface LocalAppend<P> {
  readonly stream: string
  readonly events: ReadonlyArray<P>
  readonly expected: ExpectedRevision
}

/** The asynchronous side of a store's writes: in this thread, or on a writer thread. */
export interface Writes {
  readonly appendMany: (requests: ReadonlyArray<AppendRequest>) => Effect.Effect<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
  readonly remove: (stream: string, expected: ExpectedRevision, status: StreamStatus) => Effect.Effect<AppendError | undefined, StoreUnavailable>
}

const exists = (state: StreamState | undefined): state is StreamState =>
  state !== undefined && state.status === "live" && state.revision >= 0n

const accepts = (state: StreamState | undefined, expected: ExpectedRevision): boolean => {
  switch (expected) {
    case "any":
      return true
    case "no_stream":
      return !exists(state)
    case "stream_exists":
      return exists(state)
    default:
      return exists(state) && state.revision === expected
  }
}

const wrongRevision = (stream: string, state: StreamState | undefined, expected: ExpectedRevision) =>
  new WrongExpectedRevision({
    stream,
    expected: formatExpected(expected),
    actual: exists(state) ? state.revision.toString() : "no_stream"
  })

const duplicateOf = (id: string, stored: StoredRef): AppendedEvent => ({
  id,
  revision: stored.revision,
  position: Position.of(stored.position),
  duplicate: true
})

const PAGE = 512

/** Each batch is one transaction; errors inside one request are its answer, not the batch's. */
export const writer = <P extends { readonly id: string }>(log: LocalLog<P>) => {
  const appendOne = ({ events, expected, stream }: LocalAppend<P>, created: number): AppendResult | AppendError => {
    const state = log.stream(stream)
    if (state?.status === "tombstoned") return new StreamDeleted({ stream })
    const known = events.map((e) => log.findEvent(e.id))
    const fresh = events.filter((_, i) => known[i] === undefined)
    // A retried append whose ids are all stored is answered as it was the first time.
    if (fresh.length === 0 && events.length > 0) {
      return { nextRevision: state?.revision ?? -1n, events: known.map((k, i) => duplicateOf(events[i]!.id, k!)) }
    }
    if (fresh.length < events.length && expected !== "any") return wrongRevision(stream, state, expected)
    if (!accepts(state, expected)) return wrongRevision(stream, state, expected)
    let revision = state?.revision ?? -1n
    // An id repeated within the request is stored once and its repeats answered as duplicates of it, as a retry
    // would be: inserted twice, it would fail the unique index and with it the batch of every other caller.
    // Most requests (every ingested event) hold one event: no map for them.
    const inserted = events.length > 1 ? new Map<string, StoredRef>() : undefined
    const appended = events.map((event, i) => {
      const k = known[i] ?? inserted?.get(event.id)
      if (k !== undefined) return duplicateOf(event.id, k)
      revision += 1n
      const position = log.insert(stream, revision, event, created)
      inserted?.set(event.id, { stream, revision, position })
      return { id: event.id, revision, position: Position.of(position), duplicate: false }
    })
    log.setStream(stream, { revision, status: "live" })
    return { nextRevision: revision, events: appended }
  }
  return {
    /** `created` is the commit time the batch's events record. */
    appendMany: (requests: ReadonlyArray<LocalAppend<P>>, created: number) =>
      log.transaction(() => requests.map((request) => appendOne(request, created))),
    remove: (stream: string, expected: ExpectedRevision, status: StreamStatus) =>
      log.transaction((): AppendError | undefined => {
        const state = log.stream(stream)
        if (state?.status === "tombstoned") return new StreamDeleted({ stream })
        if (!accepts(state, expected)) return wrongRevision(stream, state, expected)
        log.deleteEvents(stream)
        log.setStream(stream, { revision: state?.revision ?? -1n, status })
        return undefined
      })
  }
}

const unavailable = (e: unknown) => new StoreUnavailable({ reason: String(e) })

/** Writes in this thread: the in-memory store. */
export const writesInThread = (log: LocalLog<ProposedEvent>, now: () => number = Date.now): Writes => {
  const w = writer(log)
  return {
    appendMany: (requests) => Effect.try({ try: () => w.appendMany(requests, now()), catch: unavailable }),
    remove: (stream, expected, status) => Effect.try({ try: () => w.remove(stream, expected, status), catch: unavailable })
  }
}

export const make = (log: LogReads, writes: Writes): Effect.Effect<EventStore["Type"]> =>
  Effect.gen(function* () {
    // Followers wait for the head to pass their cursor after every commit: a plain callback list, since a
    // subscription per wait (SubscriptionRef.changes) cost more than the read it waited for.
    let head = log.head()
    let waiting: Array<() => void> = []
    const advance = () => {
      head = log.head()
      const woken = waiting
      waiting = []
      woken.forEach((wake) => wake())
    }

    const written = <A, E>(effect: Effect.Effect<A, E>) => Effect.tap(effect, () => Effect.sync(advance))

    const read = <A>(fn: () => A) => Effect.try({ try: fn, catch: unavailable })

    const remove = (status: StreamStatus) => (stream: string, expected: ExpectedRevision) =>
      written(writes.remove(stream, expected, status)).pipe(
        Effect.flatMap((error) => (error === undefined ? Effect.void : Effect.fail(error)))
      )

    const readAllPage = (after: bigint, maxCount: number, filter: AllFilter) =>
      read(() => log.readAll(after, maxCount, filter))

    const awaitBeyond = (cursor: bigint): Effect.Effect<void> =>
      Effect.async((resume) => {
        const wake = () => (head > cursor ? resume(Effect.void) : void waiting.push(wake))
        wake()
        return Effect.sync(() => {
          waiting = waiting.filter((w) => w !== wake)
        })
      })

    const appendMany = (requests: ReadonlyArray<AppendRequest>) => written(writes.appendMany(requests))

    const store: EventStore["Type"] = {
      idempotence: "exact",
      append: (stream, events, expected) =>
        appendMany([{ stream, events, expected }]).pipe(
          Effect.flatMap(([r]) => ("_tag" in r! ? Effect.fail(r) : Effect.succeed(r!)))
        ),
      appendMany,
      read: (stream, options = {}) =>
        read(() => {
          const events = log.readStream(stream, options.from, options.direction ?? "forwards", options.maxCount ?? Number.MAX_SAFE_INTEGER)
          // A tombstone removed every event, so only an empty read needs to ask (most reads here find events).
          return events.length === 0 && log.tombstoned(stream) ? new StreamDeleted({ stream }) : events
        }).pipe(Effect.flatMap((r) => ("_tag" in r ? Effect.fail(r) : Effect.succeed(r)))),
      readAll: (options = {}) =>
        readAllPage(options.after?.commit ?? -1n, options.maxCount ?? PAGE, options).pipe(Effect.map((p) => p.events)),
      head: Effect.sync(() => Position.of(log.head())),
      subscribeAll: (options = {}) =>
        Stream.suspend(() => {
          let cursor = options.after?.commit ?? -1n
          const next: Effect.Effect<Chunk.Chunk<RecordedEvent>, StoreUnavailable> = Effect.suspend(() =>
            readAllPage(cursor, options.maxCount ?? PAGE, options)
          ).pipe(
            Effect.flatMap((page) => {
              const moved = page.scannedTo > cursor
              cursor = page.scannedTo > cursor ? page.scannedTo : cursor
              if (page.events.length > 0) return Effect.succeed(Chunk.unsafeFromArray(page.events as Array<RecordedEvent>))
              return (moved ? Effect.void : awaitBeyond(cursor)).pipe(Effect.zipRight(next))
            })
          )
          return Stream.repeatEffectChunk(next)
        }),
      deleteStream: remove("deleted"),
      tombstone: remove("tombstoned")
    }
    return store
  })
