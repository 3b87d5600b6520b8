import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { EventId, RuleSetPublished } from "@nudge/domain"
import { EventStore, GroupCommit, MemoryEventStore, StoreUnavailable } from "@nudge/event-store"
import { Dedup, IngestLimits, Ingestor } from "@nudge/ingest"
import { AuditServiceClient, EventLogServiceClient } from "@nudge/proto"
import { Effect, Layer } from "effect"
import { serve } from "../src/GrpcServer.js"
import * as IngestHandlers from "../src/IngestHandlers.js"
import { type CallError, controlClients, ingestClient, request, unaryBytes } from "./support/Clients.js"
import * as StoredLog from "./support/StoredLog.js"
import * as TestEngine from "./support/TestEngine.js"

/** The status a server stream ends with, or "no status" if none comes within two seconds. */
const streamStatus = (call: grpc.ClientReadableStream<unknown>) =>
  new Promise<CallError | "no status">((resolve) => {
    const timer = setTimeout(() => {
      call.cancel()
      resolve("no status")
    }, 2_000)
    call.on("data", () => undefined)
    call.on("error", (e: grpc.ServiceError) => {
      clearTimeout(timer)
      resolve({ code: e.code, details: e.details })
    })
  })

/** A TrackRequest's bytes with a message id that is not UTF-8 (fields 1, 2 and 3: message id, user id, name). */
const withIdBytes = (id: ReadonlyArray<number>) =>
  Buffer.from([0x0a, id.length, ...id, 0x12, 0x01, 0x75, 0x1a, 0x01, 0x6e])

describe("gRPC edge errors", () => {
  it.effect("ends Tail and WatchFirings with INVALID_ARGUMENT for a bad position, instead of leaving them open", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { port } = yield* TestEngine.start(TestEngine.config())
        const address = `127.0.0.1:${port}`
        const audit = new AuditServiceClient(address, grpc.credentials.createInsecure())
        const log = new EventLogServiceClient(address, grpc.credentials.createInsecure())
        const [watch, tail] = yield* Effect.promise(() =>
          Promise.all([
            streamStatus(audit.watchFirings({ afterPosition: "abc", userId: "" })),
            streamStatus(log.tail({ afterPosition: "abc", fromStart: false, streamPrefixes: [] }))
          ])
        )
        audit.close()
        log.close()
        const expected = { code: grpc.status.INVALID_ARGUMENT, details: "after_position: expected a decimal position" }
        assert.deepStrictEqual([watch, tail], [expected, expected])
      })
    )
  )

  it.effect("keeps a status that repeats a huge input short, and the connection serving", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { port } = yield* TestEngine.start(TestEngine.config())
        const control = controlClients(port)
        const [huge, next] = yield* Effect.promise(async () => [await control.explain("f".repeat(100_000)), await control.explain("another")])
        control.close()
        assert.isTrue(!huge!.ok && huge.error.code === grpc.status.NOT_FOUND)
        assert.isAtMost(huge!.ok ? 0 : huge.error.details.length, 2_100)
        assert.isTrue(!next!.ok && next.error.code === grpc.status.NOT_FOUND)
      })
    )
  )

  it.effect("refuses ids that are not UTF-8, which would otherwise read as one another", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const results = yield* Effect.scoped(
        Effect.gen(function* () {
          const { port } = yield* TestEngine.start(config)
          const client = ingestClient(port)
          const answers = yield* Effect.promise(async () => [
            await client.trackBytes(withIdBytes([0x41, 0xff])),
            await client.trackBytes(withIdBytes([0x41, 0xfe]))
          ])
          client.close()
          return answers
        })
      )
      assert.deepStrictEqual(
        results.map((r) => (r.ok ? "ok" : r.error.code)),
        [grpc.status.INVALID_ARGUMENT, grpc.status.INVALID_ARGUMENT]
      )
      assert.strictEqual((yield* StoredLog.read(config.dataDir)).length, 0)
    })
  )

  it.live("answers a store outage with UNAVAILABLE on TrackStream, as on Track", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const down = Layer.effect(
          EventStore,
          Effect.map(MemoryEventStore.make, (store) => ({ ...store, appendMany: () => Effect.fail(new StoreUnavailable({ reason: "disk gone" })) }))
        )
        const context = yield* Layer.build(Ingestor.layer.pipe(Layer.provide(Dedup.layerStore), Layer.provide(GroupCommit.layer), Layer.provide(down)))
        const binding = yield* IngestHandlers.make(IngestLimits.defaults).pipe(Effect.provide(context))
        const { port } = yield* serve("127.0.0.1:0", [binding], 1_000)
        const client = ingestClient(port)
        const [unary, streamed] = yield* Effect.promise(() => Promise.all([client.track(request()), client.trackStream([request()])]))
        client.close()
        assert.deepStrictEqual(
          [unary.ok ? "ok" : unary.error.code, streamed.ok ? "ok" : streamed.error.code],
          [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]
        )
      })
    )
  )

  it.effect("answers ListRules with FAILED_PRECONDITION when the stored rule set no longer passes validation, instead of INTERNAL", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const text = `rules:
  - { id: r, version: 5000000000, name: r, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: A, within: 1h } } }`
      const published = new RuleSetPublished.RuleSetPublished({ version: 1, format: "yaml", text, publishedAt: 0 })
      yield* StoredLog.append(config.dataDir, RuleSetPublished.stream, [{ id: EventId.forMessage("stale"), ...RuleSetPublished.encode(published) }])
      const listed = yield* Effect.scoped(
        Effect.gen(function* () {
          const { port } = yield* TestEngine.start(config)
          const control = controlClients(port)
          const result = yield* Effect.promise(() => control.listRules())
          control.close()
          return result
        })
      )
      assert.strictEqual(listed.ok ? "ok" : listed.error.code, grpc.status.FAILED_PRECONDITION)
      assert.include(listed.ok ? "" : listed.error.details, "rule set version 1 no longer passes validation")
    })
  )

  it.effect("refuses a field this API version does not have on any method, not only on ingestion", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { port } = yield* TestEngine.start(TestEngine.config())
        const audit = new AuditServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
        // ExplainRequest { firing_id: "f" } and a field 25 (varint 5) it does not have.
        const result = yield* Effect.promise(() =>
          unaryBytes(audit, "/nudge.v1.AuditService/Explain", Buffer.from([0x0a, 0x01, 0x66, 0xc8, 0x01, 0x05]))
        )
        audit.close()
        assert.strictEqual(result.ok ? "ok" : result.error.code, grpc.status.INVALID_ARGUMENT)
        assert.include(result.ok ? "" : result.error.details, "unknown field number 25")
      })
    )
  )
})
