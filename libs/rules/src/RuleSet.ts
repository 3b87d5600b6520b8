/**
 * Rule sets as published: YAML or JSON text decoded with `effect/Schema`. Parsing is all
 * or nothing: any issue rejects the whole set, so a bad edit never half-applies.
 */
import { Either, ParseResult, Schema } from "effect"
import * as YAML from "yaml"
import { Condition } from "./Condition.js"
import { Duration, PositiveDuration } from "./Duration.js"

const NonEmptyString = Schema.String.pipe(Schema.minLength(1, { message: () => "expected a non-empty string" }))
const Int = Schema.Number.pipe(Schema.int({ message: () => "expected an integer" }))

/**
 * Integers that reach clients in protobuf fields of a fixed width (`proto/nudge/v1`): a larger one
 * would be stored, then fail every response that carries it, long after it was accepted.
 */
const intWithin = (min: number, max: number) => Int.pipe(Schema.between(min, max, { message: () => `expected an integer from ${min} to ${max}` }))

/** `uint32` in `RuleSummary.version` and `Decision.rule_version`. */
const RuleVersion = intWithin(1, 4_294_967_295)

/** `int32` in `RuleSummary.priority`. */
const Priority = intWithin(-2_147_483_648, 2_147_483_647)

export const Cap = Schema.Struct({
  max: Int.pipe(Schema.positive({ message: () => "expected a positive integer" })),
  per: PositiveDuration
})
export type Cap = typeof Cap.Type

export const Action = Schema.Struct({ journey: NonEmptyString, experiment: Schema.optionalWith(NonEmptyString, { exact: true }) })
export type Action = typeof Action.Type

export const Rule = Schema.Struct({
  id: NonEmptyString,
  version: RuleVersion,
  name: Schema.String,
  priority: Priority,
  group: Schema.optionalWith(NonEmptyString, { exact: true }),
  when: Condition,
  action: Action,
  cooldown: Duration,
  caps: Schema.optionalWith(Schema.Array(Cap), { exact: true }),
  consent: Schema.optionalWith(NonEmptyString, { exact: true })
})
export type Rule = typeof Rule.Type

export const RuleSet = Schema.Struct({
  version: Schema.optionalWith(Schema.Union(Int, NonEmptyString), { exact: true }),
  /** Per-user caps across all rules (e.g. at most 3 firings per 24 h), applied by the resolver. */
  caps: Schema.optionalWith(Schema.Array(Cap), { exact: true }),
  rules: Schema.Array(Rule)
})
export type RuleSet = typeof RuleSet.Type

export const Issue = Schema.Struct({ path: Schema.String, message: Schema.String })
export type Issue = typeof Issue.Type

export class RuleSetError extends Schema.TaggedError<RuleSetError>()("RuleSetError", {
  issues: Schema.NonEmptyArray(Issue)
}) {
  override get message(): string {
    return this.issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("\n")
  }
}

const identifier = /^[A-Za-z_$][\w$]*$/

/** `["rules", 3, "when", "all", 1, "within"]` → `rules[3].when.all[1].within`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((text, key) => {
    if (typeof key === "number") return `${text}[${key}]`
    const name = String(key)
    if (!identifier.test(name)) return `${text}[${JSON.stringify(name)}]`
    return text === "" ? name : `${text}.${name}`
  }, "")

/**
 * How deeply objects and lists may nest in a rule set: about 60 levels of `all` / `any`, far beyond
 * any rule a person writes. Decoding and compiling recurse once per level, and about 1,000 levels
 * exhausted the stack (or, near that, only sometimes: when the engine compiled a stored set on a
 * cold start); the limit keeps them an order of magnitude short of it.
 */
export const maxDepth = 128

const tooDeep = `nested more than ${maxDepth} levels deep`

const entriesOf = (value: object): ReadonlyArray<readonly [PropertyKey, unknown]> =>
  Array.isArray(value) ? value.map((child, index) => [index, child] as const) : Object.entries(value)

/**
 * What the recursive steps after it rely on, checked without recursing: nesting within `maxDepth`,
 * and no value that contains itself (a YAML alias to its own ancestor: decoding it would never end).
 */
const findShapeIssue = (input: unknown): Issue | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const open = [{ value: input, entries: entriesOf(input), next: 0 }]
  const ancestors = new Set<unknown>([input])
  const pathOfChild = () => formatPath(open.map((frame) => frame.entries[frame.next - 1]![0]))
  while (open.length > 0) {
    const frame = open.at(-1)!
    if (frame.next === frame.entries.length) {
      open.pop()
      ancestors.delete(frame.value)
      continue
    }
    const child = frame.entries[frame.next++]![1]
    if (typeof child !== "object" || child === null) continue
    if (ancestors.has(child)) return { path: pathOfChild(), message: "cyclic condition: a YAML alias refers to its own ancestor" }
    if (open.length === maxDepth) return { path: pathOfChild(), message: tooDeep }
    open.push({ value: child, entries: entriesOf(child), next: 0 })
    ancestors.add(child)
  }
  return undefined
}

const duplicateIds = (ruleSet: RuleSet): Array<Issue> => {
  const firstIndex = new Map<string, number>()
  const issues: Array<Issue> = []
  ruleSet.rules.forEach((rule, index) => {
    const first = firstIndex.get(rule.id)
    if (first === undefined) firstIndex.set(rule.id, index)
    else issues.push({ path: `rules[${index}].id`, message: `duplicate rule id "${rule.id}" (first at rules[${first}])` })
  })
  return issues
}

const failWith = (issues: ReadonlyArray<Issue>) =>
  Either.left(new RuleSetError({ issues: issues as [Issue, ...Array<Issue>] }))

const decode = Schema.decodeUnknownEither(RuleSet, { errors: "all", onExcessProperty: "error" })

/** Validates an already-parsed value (e.g. from a `RuleSetPublished` event). */
export const decodeRuleSet = (input: unknown): Either.Either<RuleSet, RuleSetError> => {
  const shapeIssue = findShapeIssue(input)
  if (shapeIssue !== undefined) return failWith([shapeIssue])
  return Either.match(decode(input), {
    onLeft: (error) =>
      failWith(
        ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
          path: formatPath(issue.path),
          message: issue.message
        }))
      ),
    onRight: (ruleSet) => {
      const duplicates = duplicateIds(ruleSet)
      return duplicates.length > 0 ? failWith(duplicates) : Either.right(ruleSet)
    }
  })
}

const parseText = (text: string, format: "yaml" | "json"): Either.Either<unknown, string> => {
  try {
    return Either.right(format === "yaml" ? YAML.parse(text) : JSON.parse(text))
  } catch (error) {
    // The YAML parser recurses per level: it overflows some hundreds of levels deep, before `findShapeIssue` can look.
    if (error instanceof RangeError) return Either.left(tooDeep)
    return Either.left(`invalid ${format.toUpperCase()}: ${(error as Error).message}`)
  }
}

export const parseRuleSet = (text: string, format: "yaml" | "json"): Either.Either<RuleSet, RuleSetError> =>
  Either.match(parseText(text, format), {
    onLeft: (message) => failWith([{ path: "", message }]),
    onRight: decodeRuleSet
  })
