import { Either, ParseResult, Schema } from "effect"

/**
 * What producers tell Nudge about a user, as stored in `user-{userId}`.
 * Stored type names carry a version (`Tracked.v1`); `decode` upcasts older
 * versions so readers only ever see the current shape.
 */
const Common = {
  messageId: Schema.String,
  userId: Schema.String,
  /** Event time in epoch ms, corrected for the producer's clock skew. */
  occurredAt: Schema.Number,
  /** When the engine accepted it, epoch ms. */
  receivedAt: Schema.Number
}

export class Tracked extends Schema.TaggedClass<Tracked>()("Tracked", {
  ...Common,
  name: Schema.String,
  properties: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  context: Schema.Record({ key: Schema.String, value: Schema.String })
}) {}

export class Identified extends Schema.TaggedClass<Identified>()("Identified", {
  ...Common,
  traits: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

export class ConsentChanged extends Schema.TaggedClass<ConsentChanged>()("ConsentChanged", {
  ...Common,
  category: Schema.String,
  granted: Schema.Boolean
}) {}

export const UserEvent = Schema.Union(Tracked, Identified, ConsentChanged)
export type UserEvent = typeof UserEvent.Type

export const streamOf = (userId: string) => `user-${userId}`
export const streamPrefix = "user-"

const version = 1
const typeOf = (event: UserEvent) => `${event._tag}.v${version}`

/**
 * The stored form: a versioned type name and a JSON payload without the tag.
 * Every field's encoded form is its type form (strings, numbers, JSON
 * records), so this is a copy, not a Schema encode, on the ingest hot path.
 */
export const encode = (event: UserEvent): { readonly type: string; readonly data: unknown } => {
  const { _tag, ...data } = event
  return { type: typeOf(event), data }
}

const decodeUnknown = Schema.decodeUnknownEither(UserEvent)

export class UnknownEventType extends Schema.TaggedError<UnknownEventType>()("UnknownEventType", {
  type: Schema.String
}) {}

/** Reads any stored version of a user event; fails on types this build does not know. */
export const decode = (
  type: string,
  data: unknown
): Either.Either<UserEvent, ParseResult.ParseError | UnknownEventType> => {
  const [tag, v] = type.split(".v")
  if (tag === undefined || v !== `${version}`) return Either.left(new UnknownEventType({ type }))
  return decodeUnknown({ ...(data as object), _tag: tag })
}
