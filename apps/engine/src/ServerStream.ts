import * as grpc from "@grpc/grpc-js"
import { Effect, FiberSet, Stream } from "effect"
import { serviceError } from "./GrpcServer.js"

const write = <A>(call: grpc.ServerWritableStream<unknown, A>, message: A) =>
  call.write(message) ? Effect.void : Effect.async<void>((resume) => void call.once("drain", () => resume(Effect.void)))

/**
 * Endless server streams (tails, watches): each runs as a fiber in a set
 * that the engine's shutdown interrupts before the server drains, and writes
 * wait while the client reads slower than the log grows, so a slow client
 * never buffers the log in memory.
 */
export const make = Effect.gen(function* () {
  const fibers = yield* FiberSet.make()
  const run = yield* FiberSet.runtime(fibers)<never>()
  const follow = <A, E extends { readonly message: string }>(
    call: grpc.ServerWritableStream<unknown, A>,
    messages: Stream.Stream<A, E>
  ) => {
    const fiber = run(
      Stream.runForEach(messages, (m) => write(call, m)).pipe(
        Effect.catchAll((e) => Effect.sync(() => call.destroy(serviceError(grpc.status.UNAVAILABLE, e.message)))),
        Effect.onInterrupt(() => Effect.sync(() => call.end()))
      )
    )
    call.on("cancelled", () => fiber.unsafeInterruptAsFork(fiber.id()))
  }
  return { follow, stop: FiberSet.clear(fibers) }
})

export type ServerStream = Effect.Effect.Success<typeof make>
