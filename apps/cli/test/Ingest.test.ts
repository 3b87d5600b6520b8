import { status } from "@grpc/grpc-js"
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Ingest } from "../src/index.js"
import * as FakeEngine from "./FakeEngine.js"

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe("Ingest", () => {
  it.scoped("track sends one message with a generated id and the sender's clock", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      yield* TestClock.setTime(Date.parse("2024-05-01T10:00:05Z"))

      const response = yield* Ingest.track(engine.address, {
        userId: "u-1",
        event: "Viewed Pricing",
        properties: { plan: "pro", seats: 3, trial: false, tags: ["a", "b"], billing: { cycle: "yearly" } },
        occurredAt: new Date("2024-05-01T10:00:00.500Z")
      })

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(response), { eventId: `event-${engine.tracks[0]!.messageId}`, position: "1", duplicate: false })
      assert.strictEqual(engine.tracks.length, 1)
      const [sent] = engine.tracks
      assert.match(sent!.messageId, uuid)
      assert.strictEqual(sent!.userId, "u-1")
      assert.strictEqual(sent!.name, "Viewed Pricing")
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(sent!.properties), {
        plan: "pro",
        seats: 3,
        trial: false,
        tags: ["a", "b"],
        billing: { cycle: "yearly" }
      })
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(sent!.occurredAt), { seconds: 1714557600, nanos: 500_000_000 })
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(sent!.sentAt), { seconds: 1714557605, nanos: 0 })
    }))

  it.scoped("track with the same message id is acknowledged as a duplicate", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      const input = { userId: "u-1", event: "Signed Up", properties: {}, messageId: "m-1" }

      const first = yield* Ingest.track(engine.address, input)
      const again = yield* Ingest.track(engine.address, input)

      assert.isFalse(first.duplicate)
      assert.isTrue(again.duplicate)
      assert.deepStrictEqual(engine.tracks.map((r) => r.messageId), ["m-1", "m-1"])
      assert.isUndefined(engine.tracks[0]!.occurredAt)
    }))

  it.scoped("a failed call is an RpcError named by its status", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      engine.failure = { code: status.INVALID_ARGUMENT, details: "name: is required" }

      const error = yield* Effect.flip(Ingest.track(engine.address, { userId: "u-1", event: "E", properties: {} }))

      assert.strictEqual(error._tag, "RpcError")
      assert.strictEqual(error.status, "INVALID_ARGUMENT")
      assert.strictEqual(error.details, "name: is required")
    }))

  it.scoped("identify and consent send their own requests", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()

      yield* Ingest.identify(engine.address, { userId: "u-1", traits: { plan: "pro", seats: 3 }, messageId: "m-1" })
      yield* Ingest.setConsent(engine.address, { userId: "u-1", category: "marketing", granted: false })

      assert.strictEqual(engine.identifies.length, 1)
      assert.strictEqual(engine.identifies[0]!.messageId, "m-1")
      assert.deepStrictEqual(engine.identifies[0]!.traits, { plan: "pro", seats: 3 })
      assert.strictEqual(engine.consents.length, 1)
      assert.match(engine.consents[0]!.messageId, uuid)
      assert.strictEqual(engine.consents[0]!.category, "marketing")
      assert.isFalse(engine.consents[0]!.granted)
    }))
})
