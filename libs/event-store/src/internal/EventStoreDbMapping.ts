import {
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult as ClientAppendResult,
  type CurrentRevision,
  ErrorType,
  excludeSystemEvents,
  type ExpectedRevision as ClientExpectedRevision,
  type Filter,
  isCommandError,
  type ReadPosition,
  type ReadRevision,
  type ResolvedEvent,
  START,
  END,
  streamNameFilter
} from "@eventstore/db-client"
import { Option } from "effect"
import {
  type AppendError,
  type AppendRequest,
  type AppendResult,
  type Direction,
  type ExpectedRevision,
  formatExpected,
  Position,
  type ProposedEvent,
  type RecordedEvent,
  StoreUnavailable,
  StreamDeleted,
  WrongExpectedRevision
} from "../EventStore.js"

/**
 * The pure half of the EventStoreDB adapter: how the port's values and errors
 * translate to and from the client's, kept apart so they can be checked
 * without a server.
 */

export function toClientRevision(expected: Exclude<ExpectedRevision, "stream_exists">): ClientExpectedRevision
export function toClientRevision(expected: ExpectedRevision): AppendExpectedRevision
export function toClientRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case "any":
      return "any"
    case "no_stream":
      return "no_stream"
    case "stream_exists":
      return "stream_exists"
    default:
      return expected
  }
}

/** The client reports a missing stream as "no_stream" or, on some paths, as a negative revision. */
export const formatCurrent = (current: CurrentRevision): string =>
  current === "no_stream" || current < 0n ? "no_stream" : current.toString()

/**
 * Where a stream read starts; `undefined` when nothing can match (backwards
 * from before the first revision), since the client refuses negative revisions.
 */
export const toReadRevision = (from: bigint | undefined, direction: Direction): ReadRevision | undefined => {
  if (from === undefined) return direction === "forwards" ? START : END
  if (from >= 0n) return from
  return direction === "forwards" ? START : undefined
}

/** `Position.start` lies before the first event, which the client can only say as START. */
export const toReadPosition = (after: Position | undefined): ReadPosition =>
  after === undefined || after.commit < 0n ? START : { commit: after.commit, prepare: after.prepare }

export const toRecorded = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined => {
  const event = resolved.event
  if (event === undefined) return undefined
  return {
    id: event.id,
    stream: event.streamId,
    type: event.type,
    revision: event.revision,
    position: positionOf(resolved),
    data: event.data,
    metadata: event.metadata ?? null,
    created: event.created.getTime()
  }
}

/**
 * Servers before 22.6 leave out an event's own position on stream reads; the
 * commit position of its write is then the closest order the store gives.
 */
const positionOf = (resolved: ResolvedEvent | AllStreamResolvedEvent): Position => {
  const position = resolved.event?.position
  if (position !== undefined) return { commit: position.commit, prepare: position.prepare }
  return resolved.commitPosition === undefined ? Position.start : Position.of(resolved.commitPosition)
}

export const isSystemEvent = (event: RecordedEvent): boolean => event.type.startsWith("$")

export const matchesPrefixes = (stream: string, prefixes: ReadonlyArray<string> | undefined): boolean =>
  prefixes === undefined || prefixes.some((prefix) => stream.startsWith(prefix))

/**
 * What readAll and subscribeAll hand out: user events strictly after `after`
 * in the chosen streams. The position check makes `after` exclusive whether
 * or not the server already treats it so.
 */
export const visibleAfter =
  (after: Position | undefined, prefixes: ReadonlyArray<string> | undefined) =>
  (resolved: AllStreamResolvedEvent): Option.Option<RecordedEvent> => {
    const event = toRecorded(resolved)
    if (event === undefined || isSystemEvent(event) || !matchesPrefixes(event.stream, prefixes)) return Option.none()
    if (after !== undefined && Position.compare(event.position, after) <= 0) return Option.none()
    return Option.some(event)
  }

/** The server-side filter for $all; the same rules are applied again on the client by `visibleAfter`. */
export const allFilter = (prefixes: ReadonlyArray<string> | undefined): Filter =>
  prefixes === undefined || prefixes.length === 0 ? excludeSystemEvents() : streamNameFilter({ prefixes: [...prefixes] })

/**
 * EventStoreDB answers an append with the stream's last revision only, so each
 * event's revision is counted back from it. Nor does it say whether a retried
 * id was written again, hence `duplicate` is always false (`idempotence: "recent"`).
 */
export const toAppendResult = (
  events: ReadonlyArray<ProposedEvent>,
  nextRevision: bigint,
  positions: ReadonlyArray<Position>
): AppendResult => {
  const first = nextRevision - BigInt(events.length) + 1n
  return {
    nextRevision,
    events: events.map((event, i) => ({
      id: event.id,
      revision: first + BigInt(i),
      position: positions[i] ?? Position.start,
      duplicate: false
    }))
  }
}

/** A client built with `throwOnAppendFailure=false` reports a refused append as a result, not an error. */
export const refusedAppend = (
  stream: string,
  expected: ExpectedRevision,
  result: ClientAppendResult
): WrongExpectedRevision | undefined =>
  result.success
    ? undefined
    : new WrongExpectedRevision({
        stream,
        expected: formatExpected(expected),
        actual: formatCurrent(result.nextExpectedRevision)
      })

const describeError = (error: unknown): string =>
  error instanceof Error && isCommandError(error) ? `${error.type}: ${error.message}` : String(error)

/** Every failure the port has no name for is the store being unavailable to us. */
export const unavailable = (error: unknown): StoreUnavailable => new StoreUnavailable({ reason: describeError(error) })

export const isStreamNotFound = (error: unknown): boolean =>
  error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_NOT_FOUND

export const isGroupExisting = (error: unknown): boolean =>
  error instanceof Error && isCommandError(error) && error.type === ErrorType.PERSISTENT_SUBSCRIPTION_EXISTS

export const writeFailure = (
  stream: string,
  expected: ExpectedRevision,
  error: unknown
): AppendError | StoreUnavailable => {
  if (!(error instanceof Error) || !isCommandError(error)) return unavailable(error)
  switch (error.type) {
    case ErrorType.WRONG_EXPECTED_VERSION:
      return new WrongExpectedRevision({
        stream,
        expected: formatExpected(expected),
        actual: formatCurrent(error.actualVersion)
      })
    case ErrorType.STREAM_DELETED:
      return new StreamDeleted({ stream })
    default:
      return unavailable(error)
  }
}

/**
 * EventStoreDB refuses to soft-delete a stream that was never written, even
 * with "any"; the port, like the embedded stores, treats it as nothing to do,
 * so erasure can delete every stream a user might have without checking first.
 */
export const isNothingToDelete = (expected: ExpectedRevision, error: AppendError | StoreUnavailable): boolean =>
  (expected === "any" || expected === "no_stream") &&
  error._tag === "WrongExpectedRevision" &&
  error.actual === "no_stream"

export const readFailure = (stream: string, error: unknown): StreamDeleted | StoreUnavailable =>
  error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_DELETED
    ? new StreamDeleted({ stream })
    : unavailable(error)

/**
 * The indexes of `requests`, one list per stream in request order: appends to
 * one stream must reach the server in order (a later one may expect the
 * revision an earlier one creates), appends to different streams need not.
 */
export const byStream = (requests: ReadonlyArray<AppendRequest>): ReadonlyArray<ReadonlyArray<number>> => {
  const groups = new Map<string, Array<number>>()
  requests.forEach((request, i) => {
    const group = groups.get(request.stream)
    if (group === undefined) groups.set(request.stream, [i])
    else group.push(i)
  })
  return [...groups.values()]
}
