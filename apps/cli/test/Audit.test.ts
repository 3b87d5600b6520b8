import { assert, describe, it } from "@effect/vitest"
import type { Decision } from "@nudge/proto"
import { Chunk, Deferred, Effect, Fiber, Stream } from "effect"
import { Audit } from "../src/index.js"
import * as FakeEngine from "./FakeEngine.js"
import * as SampleDecisions from "./SampleDecisions.js"

describe("Audit", () => {
  it.scoped("firings returns one user's decisions in order", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const decisions = yield* Audit.firings(engine.address, "u-1")

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(decisions), [SampleDecisions.fired, SampleDecisions.suppressed])
    }))

  it.scoped("explain returns the decision with its explanation", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const decision = yield* Audit.explain(engine.address, "f-2")

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(decision), SampleDecisions.suppressed)
    }))

  it.scoped("explain of an unknown firing fails with NOT_FOUND", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const error = yield* Effect.flip(Audit.explain(engine.address, "f-404"))

      assert.strictEqual(error.status, "NOT_FOUND")
      assert.strictEqual(error.details, "firing f-404 not found")
    }))

  it.scopedLive("watch yields decisions from a stream that stays open, for one user after a position", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const decisions = yield* Audit.watch(engine.address, { userId: "u-1", afterPosition: "12" }).pipe(
        Stream.take(1),
        Stream.runCollect
      )

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(Chunk.toArray(decisions)), [SampleDecisions.suppressed])
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.watchRequests), [{ userId: "u-1", afterPosition: "12" }])
    }))

  it.scopedLive("watch asks for every user from now when given nothing", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const decisions = yield* Audit.watch(engine.address, {}).pipe(Stream.take(3), Stream.runCollect)

      assert.deepStrictEqual(Chunk.toArray(decisions).map((d) => d.firingId), ["f-1", "f-2", "f-3"])
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.watchRequests), [{ userId: "", afterPosition: "" }])
    }))

  it.scopedLive("watch stops promptly when interrupted while waiting for new decisions, as on Ctrl-C", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: [SampleDecisions.fired] })
      const first = yield* Deferred.make<Decision>()

      const watching = yield* Audit.watch(engine.address, {}).pipe(
        Stream.runForEach((decision) => Deferred.succeed(first, decision)),
        Effect.fork
      )
      const received = yield* Deferred.await(first)
      yield* Fiber.interrupt(watching).pipe(Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "still watching" }))

      assert.strictEqual(received.firingId, "f-1")
    }))
})
