import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { EventStore, GroupCommit, MemoryEventStore } from "@nudge/event-store"
import { Dedup, IngestLimits, Ingestor } from "@nudge/ingest"
import { IngestServiceClient, type TrackStreamResponse } from "@nudge/proto"
import { Effect, Layer } from "effect"
import { serve } from "../src/GrpcServer.js"
import * as IngestHandlers from "../src/IngestHandlers.js"
import { request } from "./support/Clients.js"

/** A store that takes 100 ms per commit and counts the events waiting inside it. */
const slowStore = (seen: { inside: number; most: number }) =>
  Layer.effect(
    EventStore,
    Effect.map(MemoryEventStore.make, (store) => ({
      ...store,
      appendMany: (requests: Parameters<typeof store.appendMany>[0]) =>
        Effect.sync(() => {
          seen.inside += requests.length
          seen.most = Math.max(seen.most, seen.inside)
        }).pipe(
          Effect.zipRight(Effect.sleep("100 millis")),
          Effect.zipRight(store.appendMany(requests)),
          Effect.ensuring(Effect.sync(() => (seen.inside -= requests.length)))
        )
    }))
  )

describe("TrackStream backpressure", () => {
  it.live("slows the producer to the store's pace and keeps what is in flight bounded", () =>
    Effect.gen(function* () {
      const seen = { inside: 0, most: 0 }
      const ingest = Ingestor.layer.pipe(Layer.provide(Dedup.layerStore), Layer.provide(GroupCommit.layer), Layer.provide(slowStore(seen)))
      const context = yield* Layer.build(ingest)
      const binding = yield* IngestHandlers.make(IngestLimits.defaults).pipe(Effect.provide(context))
      const { port } = yield* serve("127.0.0.1:0", [binding], 1000)
      const client = new IngestServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
      const total = 20_000
      const result = yield* Effect.promise(
        () =>
          new Promise<{ response: TrackStreamResponse; waits: number }>((resolve, reject) => {
            let waits = 0
            const call = client.trackStream((e, response) => (e === null ? resolve({ response: response!, waits }) : reject(e)))
            let i = 0
            const write = () => {
              while (i < total) {
                const ok = call.write(request({ messageId: `bp-${i}`, userId: `u-${i % 100}`, properties: { pad: "x".repeat(200) } }))
                i++
                if (!ok) {
                  waits++
                  return void call.once("drain", write)
                }
              }
              call.end()
            }
            write()
          })
      )
      client.close()
      assert.strictEqual(result.response.accepted, total)
      assert.isAbove(result.waits, 10, "the producer was told to wait")
      // Two chunks of at most 1,024 per call: the store never holds more, however fast the producer is.
      assert.isAtMost(seen.most, 2048)
    }).pipe(Effect.scoped)
  )
})
