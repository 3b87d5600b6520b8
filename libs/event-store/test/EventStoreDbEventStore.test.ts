import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { EventStoreDbEventStore, StoreUnavailable } from "../src/index.js"
import { eventStoreContract } from "./EventStoreContract.js"

/** Nothing listens on port 1, so every call meets a refused connection. */
const unreachable = "esdb://127.0.0.1:1?tls=false"

/** A success or a defect fails the flip itself, so only a StoreUnavailable failure passes. */
const failsUnavailable = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flip(effect).pipe(Effect.map((error) => assert.instanceOf(error, StoreUnavailable)))

describe("EventStoreDbEventStore without a reachable server", () => {
  it.scoped("fails every operation with StoreUnavailable, never a defect or a hang", () =>
    Effect.gen(function* () {
      const store = yield* EventStoreDbEventStore.make(unreachable)
      const event = { id: randomUUID(), type: "E", data: {} }
      yield* failsUnavailable(store.append("user-1", [event], "any"))
      yield* failsUnavailable(store.appendMany([{ stream: "user-1", events: [event], expected: "any" }]))
      yield* failsUnavailable(store.read("user-1"))
      yield* failsUnavailable(store.readAll())
      yield* failsUnavailable(store.head)
      yield* failsUnavailable(Stream.runDrain(store.subscribeAll({ streamPrefixes: ["user-"] })))
      yield* failsUnavailable(store.deleteStream("user-1", "stream_exists"))
      yield* failsUnavailable(store.tombstone("user-1", 3n))
    }))

  it.scoped("fails a persistent subscription with StoreUnavailable", () =>
    Effect.gen(function* () {
      const client = yield* EventStoreDbEventStore.connect(unreachable)
      yield* failsUnavailable(
        Stream.runDrain(
          EventStoreDbEventStore.subscribeAllPersistent(client, { group: "engine", streamPrefixes: ["user-"], bufferSize: 10 })
        )
      )
    }))
})

const url = process.env.EVENTSTORE_CONNECTION_STRING

// The contract is registered last: @effect/vitest's `it.layer`, which it uses, rebinds the file's
// shared `it.effect`/`it.scoped` to its own layer, so tests registered after it would build that layer too.
describe.skipIf(url === undefined)("EventStoreDB server (set EVENTSTORE_CONNECTION_STRING to run)", () => {
  it.scoped("shares a persistent subscription's events out and takes acks", () =>
    Effect.gen(function* () {
      const client = yield* EventStoreDbEventStore.connect(url ?? "")
      const store = EventStoreDbEventStore.fromClient(client)
      const prefix = `persistent-${randomUUID().slice(0, 8)}-`
      yield* store.append(`${prefix}1`, [{ id: randomUUID(), type: "E", data: { n: 1 } }], "no_stream")
      yield* store.append(`${prefix}2`, [{ id: randomUUID(), type: "E", data: { n: 2 } }], "no_stream")
      const delivered = yield* EventStoreDbEventStore.subscribeAllPersistent(client, {
        group: `test-${prefix}`,
        streamPrefixes: [prefix],
        bufferSize: 10
      }).pipe(
        Stream.take(2),
        Stream.mapEffect((delivery) => Effect.as(delivery.ack, delivery.event)),
        Stream.runCollect
      )
      // A persistent subscription promises every event, not their order.
      const numbers = Chunk.toReadonlyArray(delivered).map((e) => (e.data as { n: number }).n)
      assert.deepStrictEqual([...numbers].sort((a, b) => a - b), [1, 2])
    }), { timeout: 30_000 })

  eventStoreContract("EventStoreDB", EventStoreDbEventStore.layerEventStoreDb(url ?? ""))
})
