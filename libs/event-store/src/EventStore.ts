import { Context, Schema } from "effect"
import type { Effect, Stream } from "effect"

/**
 * A point in the global log. Embedded stores use one counter for both parts;
 * EventStoreDB has a commit and a prepare position, and only the pair orders
 * events within one commit.
 */
export interface Position {
  readonly commit: bigint
  readonly prepare: bigint
}

export const Position = {
  start: { commit: -1n, prepare: -1n } as Position,
  of: (n: bigint): Position => ({ commit: n, prepare: n }),
  compare: (a: Position, b: Position): -1 | 0 | 1 =>
    a.commit < b.commit ? -1 : a.commit > b.commit ? 1 : a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0,
  /** The external form: the commit position, or "commit/prepare" where they differ. */
  format: (p: Position): string => (p.commit === p.prepare ? `${p.commit}` : `${p.commit}/${p.prepare}`),
  parse: (s: string): Position | undefined => {
    const m = /^(\d+)(?:\/(\d+))?$/.exec(s.trim())
    if (m === null) return undefined
    const commit = BigInt(m[1]!)
    return { commit, prepare: m[2] === undefined ? commit : BigInt(m[2]) }
  }
}

/** What the writer believes about the stream; the append fails when the store disagrees. */
export type ExpectedRevision = "any" | "no_stream" | "stream_exists" | bigint

export interface ProposedEvent {
  /** A UUID; deterministic where a retry must not duplicate (appending the same id again is a no-op). */
  readonly id: string
  readonly type: string
  readonly data: unknown
  readonly metadata?: unknown
}

export interface RecordedEvent {
  readonly id: string
  readonly stream: string
  readonly type: string
  readonly revision: bigint
  readonly position: Position
  readonly data: unknown
  readonly metadata: unknown
  /** When the store committed the event, in epoch milliseconds. */
  readonly created: number
}

export interface AppendedEvent {
  readonly id: string
  readonly revision: bigint
  readonly position: Position
  /** The id had been appended before: nothing was written for it. */
  readonly duplicate: boolean
}

export interface AppendResult {
  readonly nextRevision: bigint
  readonly events: ReadonlyArray<AppendedEvent>
}

export interface AppendRequest {
  readonly stream: string
  readonly events: ReadonlyArray<ProposedEvent>
  readonly expected: ExpectedRevision
}

export type Direction = "forwards" | "backwards"

export interface ReadOptions {
  /** Inclusive revision to start from; the first (forwards) or last (backwards) by default. */
  readonly from?: bigint
  readonly direction?: Direction
  readonly maxCount?: number
}

export interface AllFilter {
  /** Only events whose stream name starts with one of these. */
  readonly streamPrefixes?: ReadonlyArray<string>
}

export interface ReadAllOptions extends AllFilter {
  /** Exclusive: events strictly after this position. */
  readonly after?: Position
  readonly maxCount?: number
}

/**
 * How strictly the store itself deduplicates event ids. "exact": an id is
 * never appended twice (embedded and memory stores). "recent": the store
 * ignores a retried id only for recent writes (EventStoreDB), so ingestion
 * keeps its own dedup index beside it.
 */
export type Idempotence = "exact" | "recent"

export class WrongExpectedRevision extends Schema.TaggedError<WrongExpectedRevision>()("WrongExpectedRevision", {
  stream: Schema.String,
  expected: Schema.String,
  actual: Schema.String
}) {
  override get message() {
    return `stream ${this.stream}: expected revision ${this.expected}, found ${this.actual}`
  }
}

export class StreamDeleted extends Schema.TaggedError<StreamDeleted>()("StreamDeleted", {
  stream: Schema.String
}) {
  override get message() {
    return `stream ${this.stream} is deleted for good`
  }
}

export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `event store unavailable: ${this.reason}`
  }
}

export type AppendError = WrongExpectedRevision | StreamDeleted

export class EventStore extends Context.Tag("@nudge/event-store/EventStore")<
  EventStore,
  {
    readonly idempotence: Idempotence
    readonly append: (
      stream: string,
      events: ReadonlyArray<ProposedEvent>,
      expected: ExpectedRevision
    ) => Effect.Effect<AppendResult, AppendError | StoreUnavailable>
    /**
     * Several appends committed together where the store can (group commit);
     * each request succeeds or fails on its own.
     */
    readonly appendMany: (
      requests: ReadonlyArray<AppendRequest>
    ) => Effect.Effect<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
    /** A missing or soft-deleted stream reads as empty. */
    readonly read: (
      stream: string,
      options?: ReadOptions
    ) => Effect.Effect<ReadonlyArray<RecordedEvent>, StreamDeleted | StoreUnavailable>
    readonly readAll: (options?: ReadAllOptions) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreUnavailable>
    /** The position of the last event in the store; `Position.start` when empty. */
    readonly head: Effect.Effect<Position, StoreUnavailable>
    /** Catch up from `after` (exclusive), then follow live, in global order, without gap or duplicate. */
    readonly subscribeAll: (options?: ReadAllOptions) => Stream.Stream<RecordedEvent, StoreUnavailable>
    /** Soft delete: the stream reads as empty and may be written again, its revisions continuing. */
    readonly deleteStream: (stream: string, expected: ExpectedRevision) => Effect.Effect<void, AppendError | StoreUnavailable>
    /** Hard delete: the stream can never be read or written again. */
    readonly tombstone: (stream: string, expected: ExpectedRevision) => Effect.Effect<void, AppendError | StoreUnavailable>
  }
>() {}

export const formatExpected = (expected: ExpectedRevision): string =>
  typeof expected === "bigint" ? expected.toString() : expected
