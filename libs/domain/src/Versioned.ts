import { Either, type ParseResult, Schema } from "effect"
import * as Guard from "./Guard.js"

export class UnknownEventType extends Schema.TaggedError<UnknownEventType>()("UnknownEventType", {
  type: Schema.String
}) {}

/** A tagged event class: its fields, and a constructor that can skip validation already done. */
export interface EventClass<A> {
  readonly fields: Schema.Struct.Fields
  new (props: any, disableValidation?: boolean): A
}

/**
 * An instance of an event class from props already checked against its
 * schema, without running the constructor, which would only merge defaults
 * (these events have none) at a cost that shows on the hot paths.
 */
export const trusted = <A>(cls: EventClass<A>, props: object): A => Object.assign(Object.create(cls.prototype), props)

/**
 * The event a payload was encoded from, kept on the payload where JSON and structured clones
 * do not carry it: a reader in this process that gets the very object back (the embedded
 * store hands its recent appends to its followers as they were appended) skips the check a
 * payload from elsewhere needs, which was a tenth of routing an ingested event.
 */
const encodedFrom = Symbol("nudge.encodedFrom")

/**
 * The stored form of a family of tagged events: a versioned type name
 * (`Tracked.v1`) and a JSON payload without the tag. Every field's encoded
 * form is its type form (strings, numbers, JSON records), so encoding is a
 * copy, and decoding is the schema's compiled type guard (much cheaper
 * than a Schema decode) with the full decode only to explain a refusal.
 * Readers of an older version would be upcast here, before decoding.
 */
export const codec = <A extends { readonly _tag: string }, I>(
  schema: Schema.Schema<A, I>,
  classes: Readonly<Record<A["_tag"], EventClass<A>>>,
  version = 1
) => {
  const decodeUnknown = Schema.decodeUnknownEither(schema)
  const guards = new Map(
    Object.entries<EventClass<A>>(classes).map(([tag, cls]) => [tag, { cls, is: Guard.is(Schema.Struct(cls.fields)) }])
  )
  return {
    encode: (event: A): { readonly type: string; readonly data: unknown } => {
      const { _tag, ...data } = event
      Object.defineProperty(data, encodedFrom, { value: event })
      return { type: `${_tag}.v${version}`, data }
    },
    decode: (type: string, data: unknown): Either.Either<A, ParseResult.ParseError | UnknownEventType> => {
      const encoded = typeof data === "object" && data !== null ? (data as { [encodedFrom]?: A })[encodedFrom] : undefined
      if (encoded !== undefined && type === `${encoded._tag}.v${version}` && guards.has(encoded._tag)) return Either.right(encoded)
      const [tag, v] = type.split(".v")
      const guard = tag === undefined ? undefined : guards.get(tag)
      if (guard === undefined || v !== `${version}`) return Either.left(new UnknownEventType({ type }))
      // Built as the instance it will be, then checked: one copy of the payload instead of two.
      const candidate = trusted(guard.cls, data as object) as A & { _tag: string }
      candidate._tag = tag
      return guard.is(candidate) ? Either.right(candidate) : decodeUnknown({ ...(data as object), _tag: tag })
    }
  }
}
