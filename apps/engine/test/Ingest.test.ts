import { assert, describe, it } from "@effect/vitest"
import { status } from "@grpc/grpc-js"
import { TrackRequest } from "@nudge/proto"
import { Effect } from "effect"
import type { EngineConfig } from "../src/EngineConfig.js"
import { ingestClient, request } from "./support/Clients.js"
import * as StoredLog from "./support/StoredLog.js"
import * as TestEngine from "./support/TestEngine.js"

const storedEvents = (config: EngineConfig) => StoredLog.read(config.dataDir)

const withEngine = <A>(config: EngineConfig, f: (client: ReturnType<typeof ingestClient>) => Promise<A>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { port } = yield* TestEngine.start(config)
      const client = ingestClient(port)
      return yield* Effect.promise(() => f(client).finally(() => client.close()))
    })
  )

describe("IngestService", () => {
  it.effect("acknowledges a Track with the stored event id and position, and stores it once", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const sent = request({ properties: { plan: "pro", seats: 3 }, context: { source: "web" } })
      const [first, again] = yield* withEngine(config, async (c) => [await c.track(sent), await c.track(sent)])
      assert.isTrue(first!.ok && !first.value.duplicate)
      assert.isTrue(again!.ok && again.value.duplicate)
      assert.deepStrictEqual(again!.ok && [again.value.eventId, again.value.position], first!.ok && [first.value.eventId, first.value.position])
      const stored = yield* storedEvents(config)
      assert.strictEqual(stored.length, 1)
      assert.strictEqual(stored[0]!.stream, "user-user-1")
      assert.strictEqual(stored[0]!.type, "Tracked.v1")
      assert.deepInclude(stored[0]!.data as object, { name: "Viewed Pricing", properties: { plan: "pro", seats: 3 }, context: { source: "web" } })
    }))

  it.effect("answers a resent message id as a duplicate after a restart", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const sent = request()
      yield* withEngine(config, (c) => c.track(sent))
      const again = yield* withEngine(config, (c) => c.track(sent))
      const stream = yield* withEngine(config, (c) => c.trackStream([sent, request({ messageId: "new" })]))
      assert.isTrue(again.ok && again.value.duplicate)
      assert.deepInclude(stream.ok ? stream.value : {}, { accepted: 1, duplicates: 1, rejected: 0 })
      assert.strictEqual((yield* storedEvents(config)).length, 2)
    }))

  it.effect("answers concurrent Track calls each on its own, repeated ids once appended and the rest duplicates", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const sent = Array.from({ length: 200 }, (_, i) =>
        i % 20 === 0 ? request({ messageId: "repeated", userId: "u-repeated" }) : request({ messageId: `m-${i}`, userId: `u-${i % 7}` })
      )
      const invalid = request({ messageId: "" })
      const answers = yield* withEngine(config, (c) => Promise.all([...sent, invalid].map((r) => c.track(r))))
      const repeated = answers.slice(0, 200).filter((_, i) => i % 20 === 0)
      assert.strictEqual(repeated.filter((a) => a.ok && !a.value.duplicate).length, 1)
      assert.strictEqual(repeated.filter((a) => a.ok && a.value.duplicate).length, 9)
      assert.strictEqual(new Set(repeated.map((a) => a.ok && a.value.eventId)).size, 1)
      assert.isTrue(answers.slice(0, 200).every((a, i) => i % 20 === 0 || (a.ok && !a.value.duplicate)))
      assert.deepInclude(answers[200]!.ok ? {} : answers[200]!.error, { code: status.INVALID_ARGUMENT })
      assert.strictEqual((yield* storedEvents(config)).length, 191)
    }))

  it.effect("counts accepted, duplicate and rejected messages of a TrackStream, naming each rejection", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const good = Array.from({ length: 1500 }, (_, i) => request({ messageId: `s-${i}`, userId: `u-${i % 37}` }))
      const result = yield* withEngine(config, (c) =>
        c.trackStream([...good, good[0]!, request({ messageId: "bad", userId: "" }), request({ messageId: "", name: "x" })])
      )
      assert.isTrue(result.ok)
      if (!result.ok) return
      assert.deepInclude(result.value, { accepted: 1500, duplicates: 1, rejected: 2 })
      assert.deepStrictEqual(
        result.value.rejections.map((r) => [r.messageId, r.reason]),
        [
          ["bad", "user_id: is required"],
          ["", "message_id: is required"]
        ]
      )
      const stored = yield* storedEvents(config)
      assert.strictEqual(stored.length, 1500)
      assert.strictEqual(new Set(stored.map((e) => e.id)).size, 1500)
    }))

  it.effect("refuses malformed input with the right status and leaves the store unchanged", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const huge = "x".repeat(10 * 1024 * 1024)
      const results = yield* withEngine(config, async (c) => ({
        noMessageId: await c.track(request({ messageId: "" })),
        noUser: await c.track(request({ userId: "  " })),
        noName: await c.track(request({ name: "" })),
        bigProperty: await c.track(request({ properties: { huge } })),
        overEventLimit: await c.track(request({ properties: { big: "y".repeat(40 * 1024) } })),
        badNanos: await c.track(request({ occurredAt: { seconds: 1_700_000_000, nanos: 2_000_000_000 } })),
        badSeconds: await c.track(request({ occurredAt: { seconds: 1e13, nanos: 0 } })),
        future: await c.track(request({ occurredAt: { seconds: Math.floor(Date.now() / 1000) + 2 * 3600, nanos: 0 } })),
        notANumber: await c.track(request({ properties: { cart: { total: Number.NaN } } })),
        garbage: await c.trackBytes(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02])),
        unknownField: await c.trackBytes(
          Buffer.concat([Buffer.from(TrackRequest.encode(request()).finish()), Buffer.from([0xc8, 0x01, 0x05])])
        )
      }))
      const code = (r: { ok: boolean; error?: { code: number } }) => (r.ok ? "ok" : r.error!.code)
      assert.deepStrictEqual(
        Object.fromEntries(Object.entries(results).map(([k, r]) => [k, code(r as never)])),
        {
          noMessageId: status.INVALID_ARGUMENT,
          noUser: status.INVALID_ARGUMENT,
          noName: status.INVALID_ARGUMENT,
          bigProperty: status.RESOURCE_EXHAUSTED,
          overEventLimit: status.RESOURCE_EXHAUSTED,
          badNanos: status.INVALID_ARGUMENT,
          badSeconds: status.INVALID_ARGUMENT,
          future: status.INVALID_ARGUMENT,
          notANumber: status.INVALID_ARGUMENT,
          garbage: status.INVALID_ARGUMENT,
          unknownField: status.INVALID_ARGUMENT
        }
      )
      assert.match(results.noUser.ok ? "" : results.noUser.error.details, /^user_id: is required$/)
      assert.match(results.badNanos.ok ? "" : results.badNanos.error.details, /^occurred_at\.nanos: /)
      assert.match(results.unknownField.ok ? "" : results.unknownField.error.details, /unknown field number 25/)
      assert.include(results.notANumber.ok ? "" : results.notANumber.error.details, "cart.total: NaN and infinities have no JSON form")
      assert.strictEqual((yield* storedEvents(config)).length, 0)
    }))

  it.effect("corrects event time for the producer's clock skew using sent_at", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const deviceNow = Math.floor(Date.now() / 1000) - 3600
      yield* withEngine(config, (c) =>
        c.track(request({ occurredAt: { seconds: deviceNow - 60, nanos: 0 }, sentAt: { seconds: deviceNow, nanos: 0 } }))
      )
      const [stored] = yield* storedEvents(config)
      const data = stored!.data as { occurredAt: number; receivedAt: number }
      // The device clock is an hour behind: the event happened a minute before it was received.
      assert.approximately(data.receivedAt - data.occurredAt, 60_000, 1500)
    }))

  it.effect("refuses a TrackStream over the batch limit with RESOURCE_EXHAUSTED, keeping what it stored and saying what that is", () =>
    Effect.gen(function* () {
      const config = TestEngine.config({ limits: { ...TestEngine.config().limits, maxStreamMessages: 10 } })
      const result = yield* withEngine(config, (c) =>
        c.trackStream([request({ messageId: "" }), ...Array.from({ length: 24 }, (_, i) => request({ messageId: `b-${i}` }))])
      )
      assert.isTrue(!result.ok && result.error.code === status.RESOURCE_EXHAUSTED)
      assert.include(result.ok ? "" : result.error.details, "of the first 10, 9 were stored, 0 were duplicates and 1 were rejected")
      assert.strictEqual((yield* storedEvents(config)).length, 9)
    }))
})
