import type { TrackRequest } from "@nudge/proto"
import { Either, ParseResult, Schema } from "effect"
import * as Timestamps from "./internal/Timestamps.js"

const OccurredAt = Schema.Union(Schema.Date, Schema.DateFromNumber.pipe(Schema.validDate())).annotations({
  message: () => ({ message: "must be an ISO date string or epoch milliseconds", override: true })
})

const Required = Schema.NonEmptyString.annotations({ message: () => "must be a non-empty string" })

/** One line of a load file, in the camelCase spelling. */
export const NdjsonEvent = Schema.Struct({
  messageId: Required,
  userId: Required,
  name: Required,
  occurredAt: Schema.optionalWith(OccurredAt, { exact: true }),
  properties: Schema.optionalWith(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
      message: () => "must be an object"
    }),
    { exact: true }
  ),
  context: Schema.optionalWith(
    Schema.Record({ key: Schema.String, value: Schema.String }).annotations({
      message: () => "must be an object of strings"
    }),
    { exact: true }
  )
}).annotations({ message: () => "expected a JSON object" })

export type NdjsonEvent = typeof NdjsonEvent.Type

const snakeCaseAliases = { message_id: "messageId", user_id: "userId", occurred_at: "occurredAt" } as const

/** Producers exporting from SQL or Python write snake_case keys; the camelCase key wins when both appear. */
const withCamelCaseKeys = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value
  const renamed: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    const camelCase = Object.hasOwn(snakeCaseAliases, key) ? snakeCaseAliases[key as keyof typeof snakeCaseAliases] : key
    if (camelCase === key || !Object.hasOwn(value, camelCase)) renamed[camelCase] = field
  }
  return renamed
}

const parseJson = (line: string): Either.Either<unknown, string> =>
  Either.try({ try: () => JSON.parse(line), catch: (error) => `not valid JSON (${(error as Error).message})` })

const firstIssue = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (issue === undefined) return error.message
  return issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`
}

const decode = Schema.decodeUnknownEither(NdjsonEvent)

export const toTrackRequest = (event: NdjsonEvent): TrackRequest => ({
  messageId: event.messageId,
  userId: event.userId,
  name: event.name,
  occurredAt: event.occurredAt === undefined ? undefined : Timestamps.fromDate(event.occurredAt),
  properties: event.properties,
  sentAt: undefined,
  context: event.context ?? {}
})

/** A line of a load file as a request, or why it cannot be sent. `sentAt` is left for the sender to stamp. */
export const parseLine = (line: string): Either.Either<TrackRequest, string> =>
  parseJson(line).pipe(
    Either.flatMap((json) => Either.mapLeft(decode(withCamelCaseKeys(json)), firstIssue)),
    Either.map(toTrackRequest)
  )
