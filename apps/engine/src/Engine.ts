import { Router, TimerService, UserActors } from "@nudge/actors"
import { Effect, Layer, Schedule } from "effect"
import * as AuditHandlers from "./AuditHandlers.js"
import type { EngineConfig } from "./EngineConfig.js"
import * as EventLogHandlers from "./EventLogHandlers.js"
import { serve } from "./GrpcServer.js"
import * as IngestHandlers from "./IngestHandlers.js"
import * as Infrastructure from "./Infrastructure.js"
import * as RuleHandlers from "./RuleHandlers.js"
import * as ServerStream from "./ServerStream.js"

/** A background loop that must not die with a passing store outage: logged, then restarted with backoff. */
const supervised = <E, R>(name: string, loop: Effect.Effect<unknown, E, R>) =>
  loop.pipe(
    Effect.tapErrorCause((cause) => Effect.logWarning(`${name} failed; restarting`, cause)),
    Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))),
    Effect.forkScoped
  )

const services = (config: EngineConfig) =>
  Effect.gen(function* () {
    const actors = yield* UserActors.UserActors
    // Registered first, so it runs last: live user states are snapshotted after the router has stopped.
    yield* Effect.addFinalizer(() => actors.passivateAll.pipe(Effect.ignoreLogged))
    yield* supervised("router", Router.run)
    yield* supervised("timers", TimerService.run())
    const streams = yield* ServerStream.make
    const bindings = [
      yield* IngestHandlers.make(config.limits),
      yield* EventLogHandlers.make(streams),
      yield* RuleHandlers.make,
      yield* AuditHandlers.make(streams)
    ]
    const { port } = yield* serve(config.grpcAddress, bindings, config.drainMs)
    yield* Effect.addFinalizer(() => Effect.logInfo("Nudge engine stopped"))
    // Runs before the server's drain: endless streams would otherwise hold the shutdown until the drain timeout.
    yield* Effect.addFinalizer(() => streams.stop)
    yield* Effect.logInfo("Nudge engine ready").pipe(
      Effect.annotateLogs({
        address: config.grpcAddress.replace(/:\d+$/, `:${port}`),
        store: Infrastructure.storeDescription(config)
      })
    )
    return { port }
  })

/**
 * The engine for one configuration: its stores, its user actors, then its
 * gRPC services over them, for the life of the scope (released in reverse:
 * the server drains before the actors stop and the stores close).
 */
export const run = (config: EngineConfig) =>
  Layer.build(UserActors.layer(config.actors).pipe(Layer.provideMerge(Infrastructure.layer(config)))).pipe(
    Effect.flatMap((context) => Effect.provide(services(config), context))
  )

export const layer = (config: EngineConfig) => Layer.scopedDiscard(run(config))
