import type { BinaryReader } from "@bufbuild/protobuf/wire"

/** A request as the server sees it: decoded with its wire size, or why it could not be. */
export type Decoded<T> =
  | { readonly _tag: "Decoded"; readonly message: T; readonly bytes: number }
  | { readonly _tag: "Malformed"; readonly reason: string }

/**
 * grpc-js answers a throwing deserializer with INTERNAL; wrapping it lets the
 * handler answer INVALID_ARGUMENT, and keeps the size for the per-event limit.
 */
export const decoder =
  <T>(decode: (input: BinaryReader | Uint8Array) => T) =>
  (buffer: Buffer): Decoded<T> => {
    try {
      return { _tag: "Decoded", message: decode(buffer), bytes: buffer.length }
    } catch (e) {
      return { _tag: "Malformed", reason: `malformed protobuf: ${e instanceof Error ? e.message : String(e)}` }
    }
  }
