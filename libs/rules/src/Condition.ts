/**
 * The trigger language: conditions over a user's event history, traits and derived facts,
 * freely nested with `all` / `any` / `not`. Windows are relative to the time the rule is
 * decided; see README.md for the semantics and examples.
 */
import { ParseResult, Schema } from "effect"
import { PositiveDuration } from "./Duration.js"
import { CountOperators, Predicates } from "./Predicate.js"

/** An event name with optional property predicates; a bare string is a name alone. */
export interface EventSpec {
  readonly name: string
  readonly where?: Predicates | undefined
}

/** `count` defaults to "at least one" and `within` is required so user state stays bounded. */
export interface EventCondition extends EventSpec {
  readonly within: number
  readonly count?: CountOperators | undefined
}

/**
 * No event `name` (matching `where`) in the `within` after an anchor event. The condition
 * holds at the anchor's deadline (anchor time + within): the moment the absence is known.
 * `after.when` is decided at the anchor's time, so "viewed pricing in the 48 h before
 * starting checkout" reads naturally.
 */
export interface AbsentCondition extends EventSpec {
  readonly within: number
  readonly after: AnchorSpec
}

export interface AnchorSpec extends EventSpec {
  readonly when?: Condition | undefined
}

/** Steps in strictly increasing event time, all inside the window. */
export interface SequenceCondition {
  readonly steps: ReadonlyArray<EventSpec>
  readonly within: number
}

export type Condition =
  | { readonly all: ReadonlyArray<Condition> }
  | { readonly any: ReadonlyArray<Condition> }
  | { readonly not: Condition }
  | { readonly event: EventCondition }
  | { readonly absent: AbsentCondition }
  | { readonly sequence: SequenceCondition }
  | { readonly trait: Predicates }

export const kinds = ["all", "any", "not", "event", "absent", "sequence", "trait"] as const
export type Kind = (typeof kinds)[number]

export const kindOf = (condition: Condition): Kind => Object.keys(condition)[0] as Kind

const suspended: Schema.Schema<Condition, unknown> = Schema.suspend(() => Condition)

const NonEmptyName = Schema.String.pipe(Schema.minLength(1, { message: () => "expected a non-empty event name" }))

const SpecStruct = Schema.Struct({ name: NonEmptyName, where: Schema.optionalWith(Predicates, { exact: true }) })

/** A spec object, or a bare event name as its shorthand. */
const shorthand = <A extends EventSpec>(struct: Schema.Schema<A, any>): Schema.Schema<A, unknown> =>
  Schema.declare([], {
    decode: () => (input, options) =>
      typeof input === "string"
        ? ParseResult.decodeUnknown(struct)({ name: input }, options)
        : ParseResult.decodeUnknown(struct)(input, options),
    encode: () => (input, options) => ParseResult.encodeUnknown(struct)(input, options)
  })

const Spec = shorthand(SpecStruct)

const AnchorStruct = Schema.Struct({
  name: NonEmptyName,
  where: Schema.optionalWith(Predicates, { exact: true }),
  when: Schema.optionalWith(suspended, { exact: true })
})

const conditions = Schema.Array(suspended).pipe(
  Schema.minItems(1, { message: () => "expected at least one condition" })
)

const variants: { readonly [K in Kind]: Schema.Schema<any, any> } = {
  all: Schema.Struct({ all: conditions }),
  any: Schema.Struct({ any: conditions }),
  not: Schema.Struct({ not: suspended }),
  event: Schema.Struct({
    event: Schema.Struct({
      name: NonEmptyName,
      where: Schema.optionalWith(Predicates, { exact: true }),
      within: PositiveDuration,
      count: Schema.optionalWith(CountOperators, { exact: true })
    })
  }),
  absent: Schema.Struct({
    absent: Schema.Struct({
      name: NonEmptyName,
      where: Schema.optionalWith(Predicates, { exact: true }),
      within: PositiveDuration,
      after: shorthand(AnchorStruct)
    })
  }),
  sequence: Schema.Struct({
    sequence: Schema.Struct({
      steps: Schema.Array(Spec).pipe(Schema.minItems(2, { message: () => "expected at least two steps" })),
      within: PositiveDuration
    })
  }),
  trait: Schema.Struct({ trait: Predicates })
}

const expectedOneOf = `expected a condition with exactly one of: ${kinds.join(", ")}`

const variantOf = (input: unknown): Schema.Schema<any, any> | undefined => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined
  const keys = Object.keys(input)
  return keys.length === 1 && (kinds as ReadonlyArray<string>).includes(keys[0]!) ? variants[keys[0] as Kind] : undefined
}

/**
 * Decoded by dispatching on the condition's single key, so an error names the path into
 * the variant the author wrote (`all[1].event.within`), not every variant that failed.
 */
export const Condition: Schema.Schema<Condition, unknown> = Schema.declare([], {
  decode: () => (input, options, ast) => {
    const variant = variantOf(input)
    return variant === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, input, expectedOneOf))
      : ParseResult.decodeUnknown(variant)(input, options)
  },
  encode: () => (input, options, ast) => {
    const variant = variantOf(input)
    return variant === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, input, expectedOneOf))
      : ParseResult.encodeUnknown(variant)(input, options)
  }
}, { identifier: "Condition" })
