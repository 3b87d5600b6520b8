import {
  type AllStreamResolvedEvent,
  PersistentSubscriptionExistsError,
  START,
  END,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError
} from "@eventstore/db-client"
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { Position, StoreUnavailable, StreamDeleted, WrongExpectedRevision } from "../src/index.js"
import * as Mapping from "../src/internal/EventStoreDbMapping.js"

const resolved = (
  stream: string,
  type: string,
  position: Position,
  extra: { metadata?: unknown; revision?: bigint } = {}
): AllStreamResolvedEvent => ({
  event: {
    streamId: stream,
    id: "5f0c2a4e-1b7d-4c1e-9d7a-0a4c3c1f2b01",
    isJson: true,
    revision: extra.revision ?? 0n,
    type,
    created: new Date(1_700_000_000_123),
    data: { n: 1 },
    metadata: extra.metadata as undefined,
    position
  }
})

const serviceError = (metadata: Record<string, string>) =>
  ({ message: "refused", code: 6, details: "", metadata: { getMap: () => metadata } }) as never

describe("EventStoreDbMapping", () => {
  it("maps each expected revision to the client's constant", () => {
    assert.strictEqual(Mapping.toClientRevision("any"), "any")
    assert.strictEqual(Mapping.toClientRevision("no_stream"), "no_stream")
    assert.strictEqual(Mapping.toClientRevision("stream_exists"), "stream_exists")
    assert.strictEqual(Mapping.toClientRevision(7n), 7n)
  })

  it("names a missing stream no_stream whichever way the client reports it", () => {
    assert.strictEqual(Mapping.formatCurrent("no_stream"), "no_stream")
    assert.strictEqual(Mapping.formatCurrent(-1n), "no_stream")
    assert.strictEqual(Mapping.formatCurrent(0n), "0")
    assert.strictEqual(Mapping.formatCurrent(12n), "12")
  })

  it("starts stream reads at the first or last revision by default and never at a negative one", () => {
    assert.strictEqual(Mapping.toReadRevision(undefined, "forwards"), START)
    assert.strictEqual(Mapping.toReadRevision(undefined, "backwards"), END)
    assert.strictEqual(Mapping.toReadRevision(3n, "backwards"), 3n)
    assert.strictEqual(Mapping.toReadRevision(-1n, "forwards"), START)
    assert.isUndefined(Mapping.toReadRevision(-1n, "backwards"))
  })

  it("reads $all from START for no position or Position.start, else from the position itself", () => {
    assert.strictEqual(Mapping.toReadPosition(undefined), START)
    assert.strictEqual(Mapping.toReadPosition(Position.start), START)
    assert.deepStrictEqual(Mapping.toReadPosition({ commit: 900n, prepare: 850n }), { commit: 900n, prepare: 850n })
  })

  it("maps a resolved event to a recorded one", () => {
    const recorded = Mapping.toRecorded(resolved("user-1", "Tracked.v1", { commit: 40n, prepare: 38n }, { revision: 4n }))
    assert.deepStrictEqual(recorded, {
      id: "5f0c2a4e-1b7d-4c1e-9d7a-0a4c3c1f2b01",
      stream: "user-1",
      type: "Tracked.v1",
      revision: 4n,
      position: { commit: 40n, prepare: 38n },
      data: { n: 1 },
      metadata: null,
      created: 1_700_000_000_123
    })
    const withMetadata = Mapping.toRecorded(resolved("user-1", "E", Position.of(1n), { metadata: { by: "ingest" } }))
    assert.deepStrictEqual(withMetadata?.metadata, { by: "ingest" })
    assert.isUndefined(Mapping.toRecorded({}))
  })

  it("falls back to the commit position when the server leaves out the event's own", () => {
    const { event } = resolved("user-1", "E", Position.of(0n))
    const withoutPosition = { event: { ...event!, position: undefined }, commitPosition: 77n }
    assert.deepStrictEqual(Mapping.toRecorded(withoutPosition)?.position, { commit: 77n, prepare: 77n })
    assert.deepStrictEqual(Mapping.toRecorded({ event: withoutPosition.event })?.position, Position.start)
  })

  it("shows only user events strictly after the position, in the chosen streams", () => {
    const after = { commit: 100n, prepare: 100n }
    const visible = Mapping.visibleAfter(after, ["user-", "trigger-"])
    assert.isTrue(Option.isNone(visible(resolved("user-1", "E", after))))
    assert.isTrue(Option.isNone(visible(resolved("user-1", "E", { commit: 90n, prepare: 90n }))))
    assert.isTrue(Option.isSome(visible(resolved("user-1", "E", { commit: 100n, prepare: 101n }))))
    assert.isTrue(Option.isSome(visible(resolved("trigger-1", "E", { commit: 120n, prepare: 120n }))))
    assert.isTrue(Option.isNone(visible(resolved("delivery-1", "E", { commit: 120n, prepare: 120n }))))
    assert.isTrue(Option.isNone(visible(resolved("user-1", "$streamDeleted", { commit: 130n, prepare: 130n }))))
    assert.isTrue(Option.isNone(visible({})))
    const everything = Mapping.visibleAfter(undefined, undefined)
    assert.isTrue(Option.isSome(everything(resolved("rules", "RuleSetPublished", Position.of(0n)))))
    assert.isTrue(Option.isNone(everything(resolved("$stats-0", "$statsCollected", Position.of(5n)))))
  })

  it("filters $all on the server by stream prefix, or by excluding system event types", () => {
    const byPrefix = Mapping.allFilter(["user-"])
    assert.strictEqual(byPrefix.filterOn, "streamName")
    assert.deepStrictEqual("prefixes" in byPrefix ? byPrefix.prefixes : undefined, ["user-"])
    for (const none of [undefined, []]) {
      const filter = Mapping.allFilter(none)
      assert.strictEqual(filter.filterOn, "eventType")
      assert.isTrue("regex" in filter && !new RegExp(filter.regex).test("$metadata") && new RegExp(filter.regex).test("E"))
    }
  })

  it("counts each appended event's revision back from the stream's last", () => {
    const events = [
      { id: "a", type: "E", data: {} },
      { id: "b", type: "E", data: {} }
    ]
    const result = Mapping.toAppendResult(events, 6n, [Position.of(10n), { commit: 10n, prepare: 12n }])
    assert.strictEqual(result.nextRevision, 6n)
    assert.deepStrictEqual(result.events, [
      { id: "a", revision: 5n, position: Position.of(10n), duplicate: false },
      { id: "b", revision: 6n, position: { commit: 10n, prepare: 12n }, duplicate: false }
    ])
  })

  it("turns an append result marked unsuccessful into a wrong expected revision", () => {
    assert.isUndefined(Mapping.refusedAppend("s", "any", { success: true, nextExpectedRevision: 0n }))
    const missing = Mapping.refusedAppend("s", 3n, { success: false, nextExpectedRevision: -1n })
    assert.deepStrictEqual(missing, new WrongExpectedRevision({ stream: "s", expected: "3", actual: "no_stream" }))
    const behind = Mapping.refusedAppend("s", "no_stream", { success: false, nextExpectedRevision: 4n })
    assert.deepStrictEqual(behind, new WrongExpectedRevision({ stream: "s", expected: "no_stream", actual: "4" }))
  })

  it("classifies write errors into the port's tagged errors", () => {
    const wrong = new WrongExpectedVersionError(undefined, { streamName: "s", expected: "no_stream", current: 1n })
    assert.deepStrictEqual(
      Mapping.writeFailure("s", "no_stream", wrong),
      new WrongExpectedRevision({ stream: "s", expected: "no_stream", actual: "1" })
    )

    const onMissing = new WrongExpectedVersionError(undefined, { streamName: "s", expected: 0n, current: "no_stream" })
    assert.strictEqual((Mapping.writeFailure("s", 0n, onMissing) as WrongExpectedRevision).actual, "no_stream")

    assert.deepStrictEqual(Mapping.writeFailure("s", "any", StreamDeletedError.fromStreamName("s")), new StreamDeleted({ stream: "s" }))

    const down = Mapping.writeFailure("s", "any", new UnavailableError(undefined, "connect ECONNREFUSED"))
    assert.instanceOf(down, StoreUnavailable)
    assert.strictEqual((down as StoreUnavailable).reason, "unavailable: connect ECONNREFUSED")

    const plain = Mapping.writeFailure("s", "any", new Error("14 UNAVAILABLE: No connection established"))
    assert.instanceOf(plain, StoreUnavailable)
    assert.include((plain as StoreUnavailable).reason, "No connection established")
  })

  it("classifies read errors: deleted for good, missing, or unavailable", () => {
    const notFound = new StreamNotFoundError(undefined, "s")
    assert.isTrue(Mapping.isStreamNotFound(notFound))
    assert.isFalse(Mapping.isStreamNotFound(StreamDeletedError.fromStreamName("s")))
    assert.isFalse(Mapping.isStreamNotFound("stream-not-found"))
    assert.deepStrictEqual(Mapping.readFailure("s", StreamDeletedError.fromStreamName("s")), new StreamDeleted({ stream: "s" }))
    assert.instanceOf(Mapping.readFailure("s", new UnavailableError()), StoreUnavailable)
  })

  it("recognises a persistent subscription group that already exists", () => {
    const exists = new PersistentSubscriptionExistsError(serviceError({ "stream-name": "$all", "group-name": "engine" }))
    assert.isTrue(Mapping.isGroupExisting(exists))
    assert.isFalse(Mapping.isGroupExisting(new UnavailableError()))
  })

  it("treats soft-deleting a never-written stream with any or no_stream as nothing to do", () => {
    const missing = new WrongExpectedRevision({ stream: "s", expected: "any", actual: "no_stream" })
    assert.isTrue(Mapping.isNothingToDelete("any", missing))
    assert.isTrue(Mapping.isNothingToDelete("no_stream", missing))
    assert.isFalse(Mapping.isNothingToDelete(2n, missing))
    assert.isFalse(Mapping.isNothingToDelete("stream_exists", missing))
    assert.isFalse(Mapping.isNothingToDelete("any", new WrongExpectedRevision({ stream: "s", expected: "any", actual: "3" })))
    assert.isFalse(Mapping.isNothingToDelete("any", new StreamDeleted({ stream: "s" })))
    assert.isFalse(Mapping.isNothingToDelete("any", new StoreUnavailable({ reason: "down" })))
  })

  it("groups append requests by stream, keeping each stream's order", () => {
    const request = (stream: string) => ({ stream, events: [], expected: "any" as const })
    const groups = Mapping.byStream([request("a"), request("b"), request("a"), request("c"), request("b")])
    assert.deepStrictEqual(groups, [[0, 2], [1, 4], [3]])
    assert.deepStrictEqual(Mapping.byStream([]), [])
  })
})
