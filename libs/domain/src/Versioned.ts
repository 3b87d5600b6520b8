import { Either, type ParseResult, Schema } from "effect"

export class UnknownEventType extends Schema.TaggedError<UnknownEventType>()("UnknownEventType", {
  type: Schema.String
}) {}

/**
 * The stored form of a family of tagged events: a versioned type name
 * (`Tracked.v1`) and a JSON payload without the tag. Every field's encoded
 * form is its type form (strings, numbers, JSON records), so encoding is a
 * copy, not a Schema encode, on the hot paths. Readers of an older version
 * would be upcast here, before decoding.
 */
export const codec = <A extends { readonly _tag: string }, I>(schema: Schema.Schema<A, I>, version = 1) => {
  const decodeUnknown = Schema.decodeUnknownEither(schema)
  return {
    encode: (event: A): { readonly type: string; readonly data: unknown } => {
      const { _tag, ...data } = event
      return { type: `${_tag}.v${version}`, data }
    },
    decode: (type: string, data: unknown): Either.Either<A, ParseResult.ParseError | UnknownEventType> => {
      const [tag, v] = type.split(".v")
      if (tag === undefined || v !== `${version}`) return Either.left(new UnknownEventType({ type }))
      return decodeUnknown({ ...(data as object), _tag: tag })
    }
  }
}
