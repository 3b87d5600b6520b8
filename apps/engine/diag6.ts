import { Effect, Layer, Option, Stream, Fiber } from "effect"
import * as Infrastructure from "./src/Infrastructure.js"
import { Router, UserActors } from "@nudge/actors"
import { IngestLimits, Ingestor } from "@nudge/ingest"
import { UserEvent, Versioned } from "@nudge/domain"
import { StateStore } from "@nudge/state"
const config = { grpcAddress: "127.0.0.1:0", dataDir: "/tmp/diag6", eventStoreConnection: Option.none(), redisUrl: Option.none(), redisPrefix: "x:", limits: IngestLimits.defaults, drainMs: 1, actors: UserActors.defaults }
Effect.gen(function* () {
  const ing = yield* Ingestor.Ingestor
  const N = 100_000
  const mk = (i: number) => Versioned.trusted(UserEvent.Tracked, { _tag: "Tracked", messageId: `x${i}-${Math.random()}`, userId: `u${i % 10000}`, name: "Viewed Pricing", occurredAt: Date.now(), receivedAt: Date.now(), properties: { plan: "pro", seats: i }, context: { source: "b" } })
  let t = performance.now()
  for (let k = 0; k < N; k += 2048) yield* ing.accept(Array.from({ length: 2048 }, (_, j) => mk(k + j)))
  console.log(`ingest ${(N / (performance.now() - t) * 1000).toFixed(0)} ev/s`)
  const state = yield* StateStore
  t = performance.now()
  const fiber = yield* Effect.fork(Router.run)
  for (;;) {
    yield* Effect.sleep("100 millis")
    const cp = (yield* state.get([Router.checkpointKey])).get(Router.checkpointKey)
    if (cp !== undefined && Number(cp) >= N - 2048) break
  }
  console.log(`router ${(N / (performance.now() - t) * 1000).toFixed(0)} ev/s`)
  yield* Fiber.interrupt(fiber)
}).pipe(Effect.provide(UserActors.layer().pipe(Layer.provideMerge(Infrastructure.layer(config as never)))), Effect.scoped, Effect.runPromise)
