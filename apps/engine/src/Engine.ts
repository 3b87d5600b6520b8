import { Effect, Layer } from "effect"
import type { EngineConfig } from "./EngineConfig.js"
import * as EventLogHandlers from "./EventLogHandlers.js"
import { serve } from "./GrpcServer.js"
import * as IngestHandlers from "./IngestHandlers.js"
import * as Infrastructure from "./Infrastructure.js"

const services = (config: EngineConfig) =>
  Effect.gen(function* () {
    const ingest = yield* IngestHandlers.make(config.limits)
    const eventLog = yield* EventLogHandlers.make
    const { port } = yield* serve(config.grpcAddress, [ingest, eventLog.binding], config.drainMs)
    yield* Effect.addFinalizer(() => Effect.logInfo("Nudge engine stopped"))
    // Runs before the server's drain: endless tails would otherwise hold the shutdown until the drain timeout.
    yield* Effect.addFinalizer(() => eventLog.stop)
    yield* Effect.logInfo("Nudge engine ready").pipe(
      Effect.annotateLogs({
        address: config.grpcAddress.replace(/:\d+$/, `:${port}`),
        store: Infrastructure.storeDescription(config)
      })
    )
    return { port }
  })

/**
 * The engine for one configuration: its stores, then its gRPC services over
 * them, for the life of the scope (released in reverse: the server drains
 * before the stores close).
 */
export const run = (config: EngineConfig) =>
  Layer.build(Infrastructure.layer(config)).pipe(
    Effect.flatMap((context) => Effect.provide(services(config), context))
  )

export const layer = (config: EngineConfig) => Layer.scopedDiscard(run(config))
