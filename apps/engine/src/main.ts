import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Layer, Logger } from "effect"
import * as Engine from "./Engine.js"
import * as EngineConfig from "./EngineConfig.js"

const program = EngineConfig.config.pipe(
  Effect.tapError((e) => Effect.logError(`invalid configuration: ${String(e)}`)),
  Effect.flatMap((config) =>
    Layer.launch(Engine.layer(config)).pipe(
      Effect.tapErrorCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("Nudge engine failed", Cause.pretty(cause))
      )
    )
  ),
  Effect.provide(Logger.logFmt)
)

NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
