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

export const Cap = Schema.Struct({
  max: Int.pipe(Schema.positive({ message: () => "expected a positive integer" })),
  per: PositiveDuration
})
export type Cap = typeof Cap.Type

export const Action = Schema.Struct({ journey: NonEmptyString, experiment: Schema.optionalWith(NonEmptyString, { exact: true }) })
export type Action = typeof Action.Type

export const Rule = Schema.Struct({
  id: NonEmptyString,
  version: Int.pipe(Schema.positive({ message: () => "expected a positive integer" })),
  name: Schema.String,
  priority: Int,
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

/** YAML aliases can make a value contain itself; decoding that would never end. */
const findCycle = (value: unknown, path: Array<PropertyKey> = [], ancestors = new Set<unknown>()): Issue | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  if (ancestors.has(value)) return { path: formatPath(path), message: "cyclic condition: a YAML alias refers to its own ancestor" }
  ancestors.add(value)
  for (const [key, child] of Object.entries(value)) {
    const found = findCycle(child, [...path, Array.isArray(value) ? Number(key) : key], ancestors)
    if (found !== undefined) return found
  }
  ancestors.delete(value)
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
  const cycle = findCycle(input)
  if (cycle !== undefined) return failWith([cycle])
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
    return Either.left(`invalid ${format.toUpperCase()}: ${(error as Error).message}`)
  }
}

export const parseRuleSet = (text: string, format: "yaml" | "json"): Either.Either<RuleSet, RuleSetError> =>
  Either.match(parseText(text, format), {
    onLeft: (message) => failWith([{ path: "", message }]),
    onRight: decodeRuleSet
  })
