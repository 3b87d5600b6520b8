import { Guard, UserEvent, Versioned } from "@nudge/domain"
import { type IdentifyRequest, type SetConsentRequest, type TrackRequest, UnknownFields } from "@nudge/proto"
import { Either, ParseResult, Schema } from "effect"
import { InvalidArgument, LimitExceeded } from "./IngestError.js"
import type { IngestLimits } from "./IngestLimits.js"

/**
 * Validation of decoded protobuf messages into user events: the one place
 * that decides what a producer may send.
 */
const Required = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0, { message: () => "is required" }),
  Schema.filter((s) => s.length <= 256, { message: () => "must be at most 256 characters" })
)

// google.protobuf.Timestamp's documented range: 0001-01-01 to 9999-12-31.
const Timestamp = Schema.Struct({
  seconds: Schema.Number.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= -62_135_596_800 && n <= 253_402_300_799, {
      message: () => "seconds out of the Timestamp range (years 1 to 9999)"
    })
  ),
  nanos: Schema.Number.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= 0 && n <= 999_999_999, {
      message: () => "nanos must be between 0 and 999999999"
    })
  )
})

/** Where `value` holds a number JSON cannot (NaN, an infinity), if anywhere; iterative, as nesting is the producer's. */
const nonFinite = (value: unknown): string | undefined => {
  const stack: Array<readonly [unknown, string]> = [[value, ""]]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [v, path] = next
    if (typeof v === "number" && !Number.isFinite(v)) return path
    if (typeof v !== "object" || v === null) continue
    for (const [key, child] of Object.entries(v)) stack.push([child, path === "" ? key : `${path}.${key}`])
  }
  return undefined
}

/** Stored as JSON, where NaN and the infinities become null: refused rather than silently changed. */
const Json = Schema.Record({ key: Schema.String, value: Schema.Unknown }).pipe(
  Schema.filter((record) => {
    const path = nonFinite(record)
    return path === undefined || `${path}: NaN and infinities have no JSON form`
  })
)

const Timing = {
  occurredAt: Schema.optional(Schema.UndefinedOr(Timestamp)),
  sentAt: Schema.optional(Schema.UndefinedOr(Timestamp))
}

const Track = Schema.Struct({
  messageId: Required,
  userId: Required,
  name: Required,
  properties: Schema.optional(Schema.UndefinedOr(Json)),
  context: Schema.Record({ key: Schema.String, value: Schema.String }),
  ...Timing
})

const Identify = Schema.Struct({
  messageId: Required,
  userId: Required,
  traits: Schema.optional(Schema.UndefinedOr(Json)),
  ...Timing
})

const Consent = Schema.Struct({
  messageId: Required,
  userId: Required,
  category: Required,
  granted: Schema.Boolean,
  ...Timing
})

const snake = (path: ReadonlyArray<PropertyKey>) =>
  path.map((p) => String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join(".")

const firstIssue = (error: ParseResult.ParseError) => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]!
  const message = issue._tag === "Missing" ? "is required" : issue.message
  return new InvalidArgument({ field: snake(issue.path), reason: message })
}

type Unknowns = { readonly _unknownFields?: Record<number, unknown> | undefined }

const unknownFields = (m: Unknowns | undefined, field: string): InvalidArgument | undefined => {
  const reason = UnknownFields.describe(m)
  return reason === undefined ? undefined : new InvalidArgument({ field, reason })
}

const toMillis = (t: { readonly seconds: number; readonly nanos: number }) => t.seconds * 1000 + Math.floor(t.nanos / 1e6)

export interface Received {
  /** Encoded size of the message on the wire, in bytes. */
  readonly bytes: number
  /** Engine clock when the message arrived, epoch ms. */
  readonly receivedAt: number
}

const checkCommon = (
  message: Unknowns & { readonly occurredAt?: Unknowns | undefined; readonly sentAt?: Unknowns | undefined },
  received: Received,
  limits: IngestLimits
): InvalidArgument | LimitExceeded | undefined => {
  if (received.bytes > limits.maxEventBytes) {
    return new LimitExceeded({
      limit: "max_event_bytes",
      reason: `message is ${received.bytes} bytes, over the limit of ${limits.maxEventBytes}`
    })
  }
  return (
    unknownFields(message, "") ?? unknownFields(message.occurredAt, "occurred_at") ?? unknownFields(message.sentAt, "sent_at")
  )
}

/**
 * Event time: the producer's occurred_at, moved by the difference between the
 * engine's receive time and the producer's sent_at, the way the analytics
 * SDKs correct a device clock that is off.
 */
const eventTime = (
  m: { readonly occurredAt?: typeof Timestamp.Type | undefined; readonly sentAt?: typeof Timestamp.Type | undefined },
  received: Received,
  limits: IngestLimits
): Either.Either<number, InvalidArgument> => {
  const skew = m.sentAt === undefined ? 0 : received.receivedAt - toMillis(m.sentAt)
  const occurredAt = m.occurredAt === undefined ? received.receivedAt : toMillis(m.occurredAt) + skew
  return occurredAt > received.receivedAt + limits.maxFutureMs
    ? Either.left(
        new InvalidArgument({
          field: "occurred_at",
          reason: `is more than ${Math.round(limits.maxFutureMs / 60000)} min in the future`
        })
      )
    : Either.right(occurredAt)
}

interface Times {
  readonly occurredAt: number
  readonly receivedAt: number
}

const validate = <S extends Schema.Schema.AnyNoContext, E extends UserEvent.ProducerEvent>(
  schema: S,
  build: (m: S["Type"], times: Times) => E
) => {
  const decode = Schema.decodeUnknownEither(schema)
  // The type guard checks the same rules as the decode at a fraction of its cost; the decode only explains a refusal.
  const is = Guard.is(schema)
  return (
    message: Unknowns & { readonly occurredAt?: Unknowns | undefined; readonly sentAt?: Unknowns | undefined },
    received: Received,
    limits: IngestLimits
  ): Either.Either<E, InvalidArgument | LimitExceeded> => {
    const refused = checkCommon(message, received, limits)
    if (refused !== undefined) return Either.left(refused)
    const checked: Either.Either<S["Type"], InvalidArgument> = is(message) ? Either.right(message) : Either.mapLeft(decode(message), firstIssue)
    return Either.flatMap(checked, (m) =>
      eventTime(m, received, limits).pipe(Either.map((occurredAt) => build(m, { occurredAt, receivedAt: received.receivedAt })))
    )
  }
}

type Validator<M, E> = (message: M, received: Received, limits: IngestLimits) => Either.Either<E, InvalidArgument | LimitExceeded>

export const track: Validator<TrackRequest, UserEvent.Tracked> = validate(
  Track,
  (m, times) =>
    Versioned.trusted(UserEvent.Tracked, {
      _tag: "Tracked",
      messageId: m.messageId,
      userId: m.userId,
      name: m.name,
      ...times,
      properties: m.properties ?? {},
      context: m.context
    })
)

export const identify: Validator<IdentifyRequest, UserEvent.Identified> = validate(
  Identify,
  (m, times) =>
    Versioned.trusted(UserEvent.Identified, { _tag: "Identified", messageId: m.messageId, userId: m.userId, ...times, traits: m.traits ?? {} })
)

export const consent: Validator<SetConsentRequest, UserEvent.ConsentChanged> = validate(
  Consent,
  (m, times) =>
    Versioned.trusted(UserEvent.ConsentChanged, {
      _tag: "ConsentChanged",
      messageId: m.messageId,
      userId: m.userId,
      ...times,
      category: m.category,
      granted: m.granted
    })
)
