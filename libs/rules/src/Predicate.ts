/**
 * Predicates on one value: an event property, a trait, a derived fact or a count.
 * Written as `{ gte: 3 }`, `{ in: [pro, team] }`, or a bare scalar as a shorthand for `eq`.
 */
import { type Effect, ParseResult, Schema } from "effect"

export const Scalar = Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
export type Scalar = typeof Scalar.Type

const Regex = Schema.String.pipe(
  Schema.filter((source) => {
    try {
      new RegExp(source)
      return true
    } catch (error) {
      return `invalid regular expression /${source}/: ${(error as Error).message}`
    }
  })
)

const NonNegativeInt = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

const atLeastOneOperator = <A extends object>(self: A) =>
  Object.values(self).some((v) => v !== undefined) || "expected at least one operator"

/** Operators on a value; several in one object must all hold (`{ gte: 10, lt: 20 }`). */
export const Operators = Schema.Struct({
  eq: Schema.optionalWith(Scalar, { exact: true }),
  neq: Schema.optionalWith(Scalar, { exact: true }),
  gt: Schema.optionalWith(Schema.Number, { exact: true }),
  gte: Schema.optionalWith(Schema.Number, { exact: true }),
  lt: Schema.optionalWith(Schema.Number, { exact: true }),
  lte: Schema.optionalWith(Schema.Number, { exact: true }),
  in: Schema.optionalWith(Schema.Array(Scalar), { exact: true }),
  contains: Schema.optionalWith(Scalar, { exact: true }),
  startsWith: Schema.optionalWith(Schema.String, { exact: true }),
  exists: Schema.optionalWith(Schema.Boolean, { exact: true }),
  matches: Schema.optionalWith(Regex, { exact: true })
}).pipe(Schema.filter(atLeastOneOperator))
export type Operators = typeof Operators.Type

/** Thresholds on how many events matched (`count: { gte: 3 }`). */
export const CountOperators = Schema.Struct({
  eq: Schema.optionalWith(NonNegativeInt, { exact: true }),
  neq: Schema.optionalWith(NonNegativeInt, { exact: true }),
  gt: Schema.optionalWith(NonNegativeInt, { exact: true }),
  gte: Schema.optionalWith(NonNegativeInt, { exact: true }),
  lt: Schema.optionalWith(NonNegativeInt, { exact: true }),
  lte: Schema.optionalWith(NonNegativeInt, { exact: true })
}).pipe(Schema.filter(atLeastOneOperator))
export type CountOperators = typeof CountOperators.Type

const isPlainObject = (u: unknown): u is object => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A bare scalar or an operator object. Dispatching on the input's shape (rather than a
 * `Schema.Union`) keeps the error to the one alternative the author meant, e.g.
 * `where.tier.equals: is unexpected` instead of one complaint per union member.
 */
export const Predicate: Schema.Schema<Scalar | Operators, unknown> = Schema.declare([], {
  decode: () => (input, options): Effect.Effect<Predicate, ParseResult.ParseIssue> =>
    isPlainObject(input)
      ? ParseResult.decodeUnknown(Operators)(input, options)
      : ParseResult.decodeUnknown(Scalar)(input, options),
  encode: () => (input) => ParseResult.succeed(input)
}, { identifier: "Predicate" })
export type Predicate = Scalar | Operators

/** Named predicates that must all hold: property predicates of an event, or trait predicates. */
export const Predicates = Schema.Record({ key: Schema.String, value: Predicate }).pipe(
  Schema.filter((self) => Object.keys(self).length > 0 || "expected at least one predicate")
)
export type Predicates = typeof Predicates.Type

export type Test = (value: unknown) => boolean

const numeric = (f: (v: number) => boolean): Test => (v) => typeof v === "number" && f(v)

const operatorTests = (ops: Operators): Array<Test> => {
  const tests: Array<Test> = []
  const { contains, eq, exists, gt, gte, lt, lte, matches, neq, startsWith } = ops
  if (eq !== undefined) tests.push((v) => v === eq)
  if (neq !== undefined) tests.push((v) => v !== neq)
  if (gt !== undefined) tests.push(numeric((v) => v > gt))
  if (gte !== undefined) tests.push(numeric((v) => v >= gte))
  if (lt !== undefined) tests.push(numeric((v) => v < lt))
  if (lte !== undefined) tests.push(numeric((v) => v <= lte))
  if (ops.in !== undefined) {
    const members = new Set<unknown>(ops.in)
    tests.push((v) => members.has(v))
  }
  if (contains !== undefined) {
    tests.push((v) =>
      typeof v === "string" ? typeof contains === "string" && v.includes(contains) : Array.isArray(v) && v.includes(contains)
    )
  }
  if (startsWith !== undefined) tests.push((v) => typeof v === "string" && v.startsWith(startsWith))
  if (exists !== undefined) tests.push((v) => (v !== undefined && v !== null) === exists)
  if (matches !== undefined) {
    const regex = new RegExp(matches)
    tests.push((v) => typeof v === "string" && regex.test(v))
  }
  return tests
}

/**
 * Compiles a predicate into one closure; the common single-operator case returns the
 * operator's own closure so evaluation makes one call, not a loop over a list.
 */
export const toTest = (predicate: Predicate): Test => {
  if (!isPlainObject(predicate)) return (v) => v === predicate
  const tests = operatorTests(predicate as Operators)
  if (tests.length === 1) return tests[0]!
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(v)) return false
    return true
  }
}

/** Reads a dotted path ("plan.tier") from a record of properties or traits. */
export const read = (record: Readonly<Record<string, unknown>>, path: ReadonlyArray<string>): unknown => {
  let value: unknown = record
  for (let i = 0; i < path.length && value !== undefined && value !== null; i++) {
    value = (value as Record<string, unknown>)[path[i]!]
  }
  return value
}
