import * as grpc from "@grpc/grpc-js"
import { EventStore, Position, type RecordedEvent } from "@nudge/event-store"
import { EventLogServiceService, type StoredEvent, type TailRequest } from "@nudge/proto"
import { Effect, Stream } from "effect"
import type { ServiceBinding } from "./GrpcServer.js"
import { fail, type ServerStream } from "./ServerStream.js"
import { type Decoded, withDecoders } from "./Wire.js"

const toStored = (e: RecordedEvent): StoredEvent => ({
  eventId: e.id,
  stream: e.stream,
  type: e.type,
  revision: e.revision.toString(),
  position: Position.format(e.position),
  dataJson: JSON.stringify(e.data),
  createdAt: { seconds: Math.floor(e.created / 1000), nanos: (e.created % 1000) * 1e6 }
})

export const make = (streams: ServerStream) =>
  Effect.gen(function* () {
    const store = yield* EventStore

    const tail = (call: grpc.ServerWritableStream<Decoded<TailRequest>, StoredEvent>) => {
      const request = call.request
      if (request._tag === "Malformed") return fail(call, grpc.status.INVALID_ARGUMENT, request.reason)
      const { afterPosition, fromStart, streamPrefixes } = request.message
      const after = fromStart || afterPosition === "" ? undefined : Position.parse(afterPosition)
      if (!fromStart && afterPosition !== "" && after === undefined) {
        return fail(call, grpc.status.INVALID_ARGUMENT, "after_position: expected a decimal position")
      }
      const start = fromStart ? Effect.succeed(Position.start) : after === undefined ? store.head : Effect.succeed(after)
      streams.follow(
        call,
        Stream.unwrap(
          Effect.map(start, (from) =>
            store
              .subscribeAll({ after: from, ...(streamPrefixes.length > 0 ? { streamPrefixes } : {}) })
              .pipe(Stream.map(toStored))
          )
        )
      )
    }

    const binding: ServiceBinding = {
      definition: withDecoders(EventLogServiceService),
      implementation: { tail }
    }
    return binding
  })
