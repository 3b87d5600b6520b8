import type * as grpc from "@grpc/grpc-js"
import { InvalidArgument } from "@nudge/ingest"
import { UnknownFields } from "@nudge/proto"
import { Either } from "effect"

/** A request as the server sees it: decoded with its wire size, or why it could not be. */
export type Decoded<T> =
  | { readonly _tag: "Decoded"; readonly message: T; readonly bytes: number }
  | { readonly _tag: "Malformed"; readonly reason: string }

const decoder =
  <T>(decode: (buffer: Buffer) => T) =>
  (buffer: Buffer): Decoded<T> => {
    try {
      const message = decode(buffer)
      // Every method refuses fields it does not have, not only ingestion.
      const unknown = UnknownFields.describe(message as { readonly _unknownFields?: object })
      return unknown === undefined ? { _tag: "Decoded", message, bytes: buffer.length } : { _tag: "Malformed", reason: unknown }
    } catch (e) {
      return { _tag: "Malformed", reason: `malformed protobuf: ${e instanceof Error ? e.message : String(e)}` }
    }
  }

/**
 * grpc-js answers a throwing deserializer with INTERNAL; with these
 * deserializers every handler receives a `Decoded` request and answers
 * INVALID_ARGUMENT for garbage, and ingestion keeps the size for its limit.
 */
export const withDecoders = (definition: grpc.ServiceDefinition): grpc.ServiceDefinition =>
  Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, { ...method, requestDeserialize: decoder(method.requestDeserialize) }])
  )

/** The decoded message, or the INVALID_ARGUMENT that explains why there is none (an Either: usable in effects too). */
export const message = <T>(decoded: Decoded<T>): Either.Either<T, InvalidArgument> =>
  decoded._tag === "Decoded" ? Either.right(decoded.message) : Either.left(new InvalidArgument({ field: "", reason: decoded.reason }))
