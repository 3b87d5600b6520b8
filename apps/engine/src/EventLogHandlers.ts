import * as grpc from "@grpc/grpc-js"
import { EventStore, Position, type RecordedEvent } from "@nudge/event-store"
import { EventLogServiceService, type StoredEvent, TailRequest } from "@nudge/proto"
import { Effect, FiberSet, Stream } from "effect"
import { type ServiceBinding, serviceError } from "./GrpcServer.js"
import { decoder } from "./Wire.js"

const toStored = (e: RecordedEvent): StoredEvent => ({
  eventId: e.id,
  stream: e.stream,
  type: e.type,
  revision: e.revision.toString(),
  position: Position.format(e.position),
  dataJson: JSON.stringify(e.data),
  createdAt: { seconds: Math.floor(e.created / 1000), nanos: (e.created % 1000) * 1e6 }
})

/** Waits while the client reads slower than the store produces: a slow tail never buffers the log in memory. */
const writeWithBackpressure = (call: grpc.ServerWritableStream<unknown, StoredEvent>, event: StoredEvent) =>
  call.write(event) ? Effect.void : Effect.async<void>((resume) => void call.once("drain", () => resume(Effect.void)))

export const make = Effect.gen(function* () {
  const store = yield* EventStore
  // Tails are endless: they live in a set the server's shutdown interrupts before it drains the other calls.
  const tails = yield* FiberSet.make()
  const run = yield* FiberSet.runtime(tails)<never>()

  const tail = (call: grpc.ServerWritableStream<ReturnType<ReturnType<typeof decoder<TailRequest>>>, StoredEvent>) => {
    const request = call.request
    if (request._tag === "Malformed") return call.destroy(serviceError(grpc.status.INVALID_ARGUMENT, request.reason))
    const { afterPosition, fromStart, streamPrefixes } = request.message
    const after = fromStart || afterPosition === "" ? undefined : Position.parse(afterPosition)
    if (!fromStart && afterPosition !== "" && after === undefined) {
      return call.destroy(serviceError(grpc.status.INVALID_ARGUMENT, "after_position: expected a decimal position"))
    }
    const follow = Effect.gen(function* () {
      const start = fromStart ? Position.start : (after ?? (yield* store.head))
      yield* store
        .subscribeAll({ after: start, ...(streamPrefixes.length > 0 ? { streamPrefixes } : {}) })
        .pipe(Stream.runForEach((e) => writeWithBackpressure(call, toStored(e))))
    }).pipe(
      Effect.catchAll((e) => Effect.sync(() => call.destroy(serviceError(grpc.status.UNAVAILABLE, e.message)))),
      Effect.onInterrupt(() => Effect.sync(() => call.end()))
    )
    const fiber = run(follow)
    call.on("cancelled", () => fiber.unsafeInterruptAsFork(fiber.id()))
  }

  const binding: ServiceBinding = {
    definition: { ...EventLogServiceService, tail: { ...EventLogServiceService.tail, requestDeserialize: decoder(TailRequest.decode) } },
    implementation: { tail }
  }
  return { binding, stop: FiberSet.clear(tails) }
})
