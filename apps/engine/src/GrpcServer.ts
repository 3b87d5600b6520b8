import * as grpc from "@grpc/grpc-js"
import { NodeTextEncoding } from "@nudge/proto"
import { Cause, Effect, Exit, Runtime, Schema } from "effect"
import { codeOf, type EngineError } from "./GrpcStatus.js"
import { ServerOptions } from "./ServerOptions.js"

export class BindFailed extends Schema.TaggedError<BindFailed>()("BindFailed", {
  address: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot listen on ${this.address}: ${this.reason}`
  }
}

export interface ServiceBinding {
  readonly definition: grpc.ServiceDefinition
  readonly implementation: grpc.UntypedServiceImplementation
}

/** Large enough for any batch message; the per-event limit is checked on the decoded size. */
const MaxMessageBytes = 4 * 1024 * 1024

/**
 * A grpc-js server for the scope: on release it stops taking calls, lets the
 * ones in flight finish for up to `drainMs`, then cuts the rest.
 */
export const serve = (address: string, bindings: ReadonlyArray<ServiceBinding>, drainMs: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: grpc.Server; readonly port: number }, BindFailed>((resume) => {
      NodeTextEncoding.install()
      const server = new grpc.Server({
        "grpc.max_receive_message_length": MaxMessageBytes,
        "grpc.max_send_message_length": MaxMessageBytes,
        ...ServerOptions
      })
      for (const b of bindings) server.addService(b.definition, b.implementation)
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) =>
        resume(error === null ? Effect.succeed({ server, port }) : Effect.fail(new BindFailed({ address, reason: error.message })))
      )
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        const timer = setTimeout(() => server.forceShutdown(), drainMs)
        server.tryShutdown(() => {
          clearTimeout(timer)
          resume(Effect.void)
        })
      })
  )

export interface Reply<A> {
  (error: grpc.ServiceError | null, value?: A): void
}

/**
 * Status details travel in an HTTP/2 trailer, and some repeat the caller's input (an id, every problem of a rule
 * set): past about 75 KB a status stalled its call and every other call on the connection with it.
 */
const MaxDetails = 2_000

export const serviceError = (code: grpc.status, details: string): grpc.ServiceError => {
  const text = details.length <= MaxDetails ? details : `${details.slice(0, MaxDetails)}… (${details.length - MaxDetails} more characters)`
  return Object.assign(new Error(text), { code, details: text, metadata: new grpc.Metadata() })
}

/**
 * Answers a call with an effect's exit: its value, its typed error mapped
 * to a status, or INTERNAL for a defect (logged on the runtime).
 */
export const settle =
  <R>(runtime: Runtime.Runtime<R>) =>
  <A>(exit: Exit.Exit<A, EngineError>, reply: Reply<A>) => {
    if (Exit.isSuccess(exit)) return reply(null, exit.value)
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some") return reply(serviceError(codeOf(failure.value), failure.value.message))
    if (Cause.isInterruptedOnly(exit.cause)) return reply(serviceError(grpc.status.CANCELLED, "cancelled"))
    Runtime.runFork(runtime)(Effect.logError("handler defect", exit.cause))
    return reply(serviceError(grpc.status.INTERNAL, "internal error"))
  }

/** The edge between grpc-js callbacks and effects: runs a handler's effect on the engine's runtime and settles the call. */
export const answer = <R>(runtime: Runtime.Runtime<R>) => {
  const run = Runtime.runCallback(runtime)
  const reply = settle(runtime)
  return <A>(effect: Effect.Effect<A, EngineError, R>, callback: Reply<A>) =>
    run(effect, { onExit: (exit) => reply(exit, callback) })
}
