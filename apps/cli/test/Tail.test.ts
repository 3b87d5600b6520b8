import { assert, describe, it } from "@effect/vitest"
import type { StoredEvent } from "@nudge/proto"
import { Chunk, Deferred, Effect, Fiber, Stream } from "effect"
import { Report, Tail } from "../src/index.js"
import * as FakeEngine from "./FakeEngine.js"

const storedEvent = (n: number): StoredEvent => ({
  eventId: `e-${n}`,
  stream: `user-u-${n}`,
  type: "Tracked",
  revision: "0",
  position: `${n}`,
  dataJson: JSON.stringify({ name: "Signed Up", n }),
  createdAt: { seconds: 1714557600, nanos: 0 }
})

describe("Tail", () => {
  it.scopedLive("yields stored events in order from a stream that stays open", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ storedEvents: [storedEvent(1), storedEvent(2), storedEvent(3)] })

      const events = yield* Tail.tail(engine.address, { fromStart: true, streamPrefixes: ["user-"] }).pipe(
        Stream.take(3),
        Stream.runCollect
      )

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(Chunk.toArray(events)), [storedEvent(1), storedEvent(2), storedEvent(3)])
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.tailRequests), [{ afterPosition: "", fromStart: true, streamPrefixes: ["user-"] }])
      assert.strictEqual(Report.storedEvent(events.pipe(Chunk.unsafeGet(0))), `1 user-u-1 Tracked {"name":"Signed Up","n":1}`)
    }))

  it.scopedLive("starts after a given position", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ storedEvents: [storedEvent(8)] })

      yield* Tail.tail(engine.address, { fromStart: false, afterPosition: "7", streamPrefixes: [] }).pipe(
        Stream.take(1),
        Stream.runDrain
      )

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.tailRequests), [{ afterPosition: "7", fromStart: false, streamPrefixes: [] }])
    }))

  it.scopedLive("stops promptly when interrupted while waiting for new events, as on Ctrl-C", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ storedEvents: [storedEvent(1)] })
      const first = yield* Deferred.make<StoredEvent>()

      const following = yield* Tail.tail(engine.address, { fromStart: true, streamPrefixes: [] }).pipe(
        Stream.runForEach((event) => Deferred.succeed(first, event)),
        Effect.fork
      )
      const received = yield* Deferred.await(first)
      yield* Fiber.interrupt(following).pipe(Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "still following" }))

      assert.strictEqual(received.eventId, "e-1")
    }))
})
