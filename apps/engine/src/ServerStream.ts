import * as grpc from "@grpc/grpc-js"
import { Effect, FiberSet, Stream } from "effect"
import { serviceError } from "./GrpcServer.js"

/**
 * grpc-js asks for a drain after 16 queued messages, and under load a drain
 * comes only every second or so: waiting for it would cap a watch at a few
 * dozen messages a second. Waiting only past a larger queue keeps memory
 * bounded per stream without that cap.
 */
const MaxQueued = 1024

/**
 * Ends a server stream with an error status. Emitting "error" is how grpc-js sends one on a stream: `destroy`
 * with an error (grpc-js 1.14) closed nothing, and the client waited for a status forever.
 */
export const fail = (call: grpc.ServerWritableStream<unknown, unknown>, code: grpc.status, details: string) =>
  void call.emit("error", serviceError(code, details))

const write = <A>(call: grpc.ServerWritableStream<unknown, A>, message: A) => {
  call.write(message)
  return call.writableLength < MaxQueued
    ? Effect.void
    : Effect.async<void>((resume) => void call.once("drain", () => resume(Effect.void)))
}

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
        Effect.catchAll((e) => Effect.sync(() => fail(call, grpc.status.UNAVAILABLE, e.message))),
        Effect.onInterrupt(() => Effect.sync(() => call.end()))
      )
    )
    call.on("cancelled", () => fiber.unsafeInterruptAsFork(fiber.id()))
  }
  return { follow, stop: FiberSet.clear(fibers) }
})

export type ServerStream = Effect.Effect.Success<typeof make>
