import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Layer, Logger } from "effect"
import * as Engine from "./Engine.js"
import * as EngineConfig from "./EngineConfig.js"

const program = Effect.gen(function* () {
  const config = yield* EngineConfig.config.pipe(
    Effect.tapError((e) => Effect.logError(`invalid configuration: ${String(e)}`))
  )
  return yield* Layer.launch(Engine.layer(config))
}).pipe(
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("Nudge engine failed", Cause.squash(cause))
  ),
  Effect.provide(Logger.logFmt)
)

NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
