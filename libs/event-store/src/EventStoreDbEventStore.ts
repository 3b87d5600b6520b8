import {
  type AppendResult as ClientAppendResult,
  BACKWARDS,
  type DeleteResult,
  END,
  EventStoreDBClient,
  type ExpectedRevision as ClientExpectedRevision,
  FORWARDS,
  jsonEvent,
  type JSONType,
  persistentSubscriptionToAllSettingsFromDefaults,
  PINNED,
  type ReadableSubscription,
  RETRY,
  START,
  type StreamingRead
} from "@eventstore/db-client"
import { Chunk, Effect, identity, Layer, Option, type Scope, Stream } from "effect"
import {
  type AppendError,
  type AppendResult,
  EventStore,
  type ExpectedRevision,
  Position,
  type ProposedEvent,
  type ReadOptions,
  type RecordedEvent,
  StoreUnavailable,
  type StreamDeleted,
  WrongExpectedRevision
} from "./EventStore.js"
import * as Mapping from "./internal/EventStoreDbMapping.js"

/** The same default page as the embedded stores, so `readAll()` means the same everywhere. */
const PAGE = 512

/** Events a subscription holds between the server and its consumer before HTTP/2 flow control pushes back. */
const SUBSCRIPTION_BUFFER = 256

type Call<A> = StreamingRead<A> | ReadableSubscription<A>

/** Closing what never connected rejects, and there is nothing left to close: releasing must not fail. */
const release = (close: () => Promise<void>) => Effect.tryPromise(close).pipe(Effect.ignore)

/**
 * The client emits a call's failure as an 'error' event, possibly before the
 * first pull has attached the async iterator's listener, and an unheard
 * 'error' event crashes the process. Destroying the call with the error keeps
 * it for the iterator, which throws it once it starts.
 */
const keepErrors = <C extends Call<unknown>>(call: C): C => {
  call.on("error", (error) => {
    if (!call.destroyed) call.destroy(error)
  })
  return call
}

/**
 * Every read and subscription of the client as a scoped call: whether the
 * stream ends, fails or is interrupted, the gRPC call is cancelled, so no
 * read keeps streaming into a buffer nobody drains.
 */
const openCall = <C extends Call<unknown>>(open: () => C): Effect.Effect<C, unknown, Scope.Scope> =>
  Effect.acquireRelease(Effect.try({ try: () => keepErrors(open()), catch: identity }), (call) =>
    release(() => ("cancel" in call ? call.cancel() : call.unsubscribe()))
  )

/**
 * Pulled one event at a time through the call's async iterator, so a slow
 * consumer stops the pulls, the call's bounded readable buffer fills, and
 * HTTP/2 flow control holds the server back: backpressure without dropping.
 */
const callStream = <A>(open: () => Call<A>): Stream.Stream<A, unknown> =>
  Stream.unwrapScoped(Effect.map(openCall(open), (call) => Stream.fromAsyncIterable(call, identity)))

/** A catch-up or persistent subscription only ends when the server closes it; callers restart from their checkpoint. */
const ended = (what: string) => Stream.fail(new StoreUnavailable({ reason: `the server ended the ${what}` }))

const toEventData = (event: ProposedEvent) =>
  jsonEvent({
    id: event.id,
    type: event.type,
    // The client JSON-encodes whatever it is given; its type names only the usual shapes.
    data: event.data as JSONType,
    metadata: event.metadata
  })

/**
 * The client connects on its first call, so a server that is down shows up as
 * `StoreUnavailable` on calls, not here; a malformed connection string is a
 * defect, found when the layer is built.
 */
export const connect = (connectionString: string): Effect.Effect<EventStoreDBClient, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => EventStoreDBClient.connectionString(connectionString)),
    (client) => release(() => client.dispose())
  )

/**
 * The port over a client the caller owns, so the store and a persistent
 * subscription (`subscribeAllPersistent`) can share one HTTP/2 connection.
 */
export const fromClient = (client: EventStoreDBClient): EventStore["Type"] => {
  const read = Effect.fn("EventStore.read")(function* (stream: string, options: ReadOptions = {}) {
    const direction = options.direction ?? "forwards"
    const fromRevision = Mapping.toReadRevision(options.from, direction)
    if (fromRevision === undefined) return []
    return yield* callStream(() =>
      client.readStream(stream, { fromRevision, direction, maxCount: options.maxCount })
    ).pipe(
      Stream.filterMap((resolved) => Option.fromNullable(Mapping.toRecorded(resolved))),
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray),
      Effect.catchIf(Mapping.isStreamNotFound, () => Effect.succeed([])),
      Effect.mapError((error) => Mapping.readFailure(stream, error))
    )
  })

  /**
   * The append response carries one log position for the whole write, which
   * is the event's own only when the write holds a single event; the events
   * of a longer write are read back for theirs.
   */
  const positionsOf = (
    stream: string,
    count: number,
    result: ClientAppendResult
  ): Effect.Effect<ReadonlyArray<Position>, StreamDeleted | StoreUnavailable> => {
    if (count === 0) return Effect.succeed([])
    if (count === 1 && result.position !== undefined) return Effect.succeed([result.position])
    const first = result.nextExpectedRevision - BigInt(count) + 1n
    return read(stream, { from: first, maxCount: count }).pipe(Effect.map((events) => events.map((e) => e.position)))
  }

  const append = Effect.fn("EventStore.append")(function* (
    stream: string,
    events: ReadonlyArray<ProposedEvent>,
    expected: ExpectedRevision
  ) {
    const result = yield* Effect.tryPromise({
      try: () =>
        client.appendToStream(stream, events.map(toEventData), {
          expectedRevision: Mapping.toClientRevision(expected)
        }),
      catch: (error) => Mapping.writeFailure(stream, expected, error)
    })
    const refused = Mapping.refusedAppend(stream, expected, result)
    if (refused !== undefined) return yield* refused
    const positions = yield* positionsOf(stream, events.length, result)
    return Mapping.toAppendResult(events, result.nextExpectedRevision, positions)
  })

  /**
   * The client's delete calls take no "stream_exists"; the stream's last
   * revision stands in for it, which is as strict and still refuses a write
   * that slips in between.
   */
  const deleteExpectation = (
    stream: string,
    expected: ExpectedRevision
  ): Effect.Effect<ClientExpectedRevision, AppendError | StoreUnavailable> =>
    expected === "stream_exists"
      ? read(stream, { direction: "backwards", maxCount: 1 }).pipe(
          Effect.flatMap(([last]) =>
            last === undefined
              ? Effect.fail(new WrongExpectedRevision({ stream, expected, actual: "no_stream" }))
              : Effect.succeed(last.revision)
          )
        )
      : Effect.succeed(Mapping.toClientRevision(expected))

  const remove = (
    stream: string,
    expected: ExpectedRevision,
    call: (options: { expectedRevision: ClientExpectedRevision }) => Promise<DeleteResult>
  ) =>
    deleteExpectation(stream, expected).pipe(
      Effect.flatMap((expectedRevision) =>
        Effect.tryPromise({
          try: () => call({ expectedRevision }),
          catch: (error) => Mapping.writeFailure(stream, expected, error)
        })
      ),
      Effect.asVoid
    )

  return {
    idempotence: "recent",
    append,
    appendMany: Effect.fn("EventStore.appendMany")(function* (requests) {
      const results: Array<AppendResult | AppendError> = new Array(requests.length)
      yield* Effect.forEach(
        Mapping.byStream(requests),
        (indexes) =>
          Effect.forEach(indexes, (i) => {
            const { events, expected, stream } = requests[i]!
            return append(stream, events, expected).pipe(
              Effect.catchTags({
                WrongExpectedRevision: (error) => Effect.succeed(error),
                StreamDeleted: (error) => Effect.succeed(error)
              }),
              Effect.map((result) => {
                results[i] = result
              })
            )
          }),
        { concurrency: "unbounded", discard: true }
      )
      return results
    }),
    read,
    readAll: (options = {}) =>
      callStream(() => client.readAll({ fromPosition: Mapping.toReadPosition(options.after), direction: FORWARDS })).pipe(
        Stream.filterMap(Mapping.visibleAfter(options.after, options.streamPrefixes)),
        Stream.take(options.maxCount ?? PAGE),
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray),
        Effect.mapError(Mapping.unavailable),
        Effect.withSpan("EventStore.readAll")
      ),
    head: callStream(() => client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 })).pipe(
      Stream.runHead,
      Effect.map((last) =>
        Option.match(last, {
          onNone: () => Position.start,
          onSome: (resolved) => Mapping.toRecorded(resolved)?.position ?? Position.start
        })
      ),
      Effect.mapError(Mapping.unavailable),
      Effect.withSpan("EventStore.head")
    ),
    subscribeAll: (options = {}) =>
      callStream(() =>
        client.subscribeToAll(
          { fromPosition: Mapping.toReadPosition(options.after), filter: Mapping.allFilter(options.streamPrefixes) },
          { highWaterMark: SUBSCRIPTION_BUFFER }
        )
      ).pipe(
        Stream.filterMap(Mapping.visibleAfter(options.after, options.streamPrefixes)),
        Stream.mapError(Mapping.unavailable),
        Stream.concat(ended("subscription to $all"))
      ),
    deleteStream: (stream, expected) =>
      remove(stream, expected, (options) => client.deleteStream(stream, options)).pipe(
        Effect.catchIf((error) => Mapping.isNothingToDelete(expected, error), () => Effect.void),
        Effect.withSpan("EventStore.deleteStream")
      ),
    tombstone: (stream, expected) =>
      remove(stream, expected, (options) => client.tombstoneStream(stream, options)).pipe(
        Effect.withSpan("EventStore.tombstone")
      )
  }
}

export const make = (connectionString: string): Effect.Effect<EventStore["Type"], never, Scope.Scope> =>
  Effect.map(connect(connectionString), fromClient)

export const layerEventStoreDb = (connectionString: string): Layer.Layer<EventStore> =>
  Layer.scoped(EventStore, make(connectionString))

export interface PersistentDelivery {
  readonly event: RecordedEvent
  /** The event is handled: the group's checkpoint may move past it. */
  readonly ack: Effect.Effect<void, StoreUnavailable>
  /** Handling failed: the server redelivers it, and parks it after the group's retry limit. */
  readonly nack: (reason: string) => Effect.Effect<void, StoreUnavailable>
}

export interface PersistentOptions {
  /** One group per consuming service; its instances share the group's events between them. */
  readonly group: string
  readonly streamPrefixes: ReadonlyArray<string>
  /** Events the server sends ahead of acks, and the events held here waiting for the consumer. */
  readonly bufferSize: number
}

/**
 * Creates the group if it is missing. A new group starts from the beginning
 * of $all, so no event appended before the first instance came up is lost.
 * Two instances racing to create it both succeed.
 */
const ensureGroup = (client: EventStoreDBClient, options: PersistentOptions) =>
  Effect.tryPromise({
    try: () =>
      client.createPersistentSubscriptionToAll(
        options.group,
        persistentSubscriptionToAllSettingsFromDefaults({ consumerStrategyName: PINNED, startFrom: START }),
        { filter: Mapping.allFilter(options.streamPrefixes) }
      ),
    catch: identity
  }).pipe(Effect.catchIf(Mapping.isGroupExisting, () => Effect.void))

/**
 * Events of $all shared out among the instances that join `group`, each
 * stream pinned to one instance (the server hashes the stream name and
 * rebalances as instances join and leave), so one engine instance owns a
 * user. Not part of the `EventStore` port: partitioning consumers is
 * something only EventStoreDB does; the embedded stores serve a single
 * process, which reads everything through `subscribeAll`.
 *
 * Pinning is best effort during a rebalance; the exact expected revision on
 * `trigger-{userId}` is what keeps two owners from both firing.
 */
export const subscribeAllPersistent = (
  client: EventStoreDBClient,
  options: PersistentOptions
): Stream.Stream<PersistentDelivery, StoreUnavailable> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      yield* ensureGroup(client, options)
      const subscription = yield* openCall(() =>
        client.subscribeToPersistentSubscriptionToAll(
          options.group,
          { bufferSize: options.bufferSize },
          { highWaterMark: options.bufferSize }
        )
      )
      const settle = (f: () => Promise<void>) => Effect.tryPromise({ try: f, catch: Mapping.unavailable })
      const visible = Mapping.visibleAfter(undefined, options.streamPrefixes)
      return Stream.fromAsyncIterable(subscription, identity).pipe(
        Stream.mapError(Mapping.unavailable),
        // Events the consumer never sees are acked here, or the server would redeliver them until parked.
        Stream.mapEffect((resolved) =>
          Option.match(visible(resolved), {
            onNone: () => settle(() => subscription.ack(resolved)).pipe(Effect.as(Option.none<PersistentDelivery>())),
            onSome: (event) =>
              Effect.succeed(
                Option.some<PersistentDelivery>({
                  event,
                  ack: settle(() => subscription.ack(resolved)),
                  nack: (reason) => settle(() => subscription.nack(RETRY, reason, resolved))
                })
              )
          })
        ),
        Stream.filterMap(identity),
        Stream.concat(ended(`persistent subscription ${options.group}`))
      )
    }).pipe(Effect.mapError(Mapping.unavailable))
  )
