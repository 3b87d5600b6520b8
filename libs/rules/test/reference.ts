/**
 * A deliberately naive interpreter of the rule language: full history, no index, no
 * state bounds, no closures, and firing decided by testing every millisecond. The
 * compiled engine must agree with it.
 */
import type { Condition, EventSpec } from "../src/Condition.js"
import type { Predicate } from "../src/Predicate.js"
import type { Rule } from "../src/RuleSet.js"

export interface Ev {
  readonly id: string
  readonly name: string
  readonly occurredAt: number
  readonly properties: Record<string, unknown>
}

export interface Facts {
  readonly sessionCount: number
  readonly firstSeenAt: number | null
  readonly lastSeenAt: number | null
}

export const factsOf = (history: ReadonlyArray<Ev>): Facts => {
  const times = history.map((e) => e.occurredAt)
  return {
    sessionCount: history.filter((e) => e.name === "Session Started").length,
    firstSeenAt: times.length === 0 ? null : Math.min(...times),
    lastSeenAt: times.length === 0 ? null : Math.max(...times)
  }
}

const predicateHolds = (predicate: Predicate, v: unknown): boolean => {
  if (typeof predicate !== "object" || predicate === null) return v === predicate
  const checks: Array<boolean> = []
  const p = predicate
  if (p.eq !== undefined) checks.push(v === p.eq)
  if (p.neq !== undefined) checks.push(v !== p.neq)
  if (p.gt !== undefined) checks.push(typeof v === "number" && v > p.gt)
  if (p.gte !== undefined) checks.push(typeof v === "number" && v >= p.gte)
  if (p.lt !== undefined) checks.push(typeof v === "number" && v < p.lt)
  if (p.lte !== undefined) checks.push(typeof v === "number" && v <= p.lte)
  if (p.in !== undefined) checks.push(p.in.includes(v as never))
  if (p.contains !== undefined) {
    checks.push(typeof v === "string" ? typeof p.contains === "string" && v.includes(p.contains) : Array.isArray(v) && v.includes(p.contains))
  }
  if (p.startsWith !== undefined) checks.push(typeof v === "string" && v.startsWith(p.startsWith))
  if (p.exists !== undefined) checks.push((v !== undefined && v !== null) === p.exists)
  if (p.matches !== undefined) checks.push(typeof v === "string" && new RegExp(p.matches).test(v))
  return checks.every(Boolean)
}

const specMatches = (spec: EventSpec, e: Ev) =>
  e.name === spec.name && Object.entries(spec.where ?? {}).every(([k, p]) => predicateHolds(p, e.properties[k]))

const factValue = (facts: Facts, key: string): unknown =>
  key === "isReturning" ? facts.sessionCount > 1 : (facts as unknown as Record<string, unknown>)[key]

/** Whether a chain of `steps` exists with strictly increasing times in (from, to]. */
const chainExists = (steps: ReadonlyArray<EventSpec>, history: ReadonlyArray<Ev>, from: number, to: number): boolean =>
  steps.length === 0 ||
  history.some((e) => e.occurredAt > from && e.occurredAt <= to && specMatches(steps[0]!, e) && chainExists(steps.slice(1), history, e.occurredAt, to))

export const holds = (c: Condition, history: ReadonlyArray<Ev>, at: number, facts: Facts): boolean => {
  if ("all" in c) return c.all.every((x) => holds(x, history, at, facts))
  if ("any" in c) return c.any.some((x) => holds(x, history, at, facts))
  if ("not" in c) return !holds(c.not, history, at, facts)
  if ("event" in c) {
    const n = history.filter((e) => e.occurredAt > at - c.event.within && e.occurredAt <= at && specMatches(c.event, e)).length
    return c.event.count === undefined ? n > 0 : predicateHolds(c.event.count, n)
  }
  if ("sequence" in c) return chainExists(c.sequence.steps, history, at - c.sequence.within, at)
  if ("absent" in c) {
    const { after, within } = c.absent
    return history.some(
      (a) =>
        a.occurredAt + within === at &&
        specMatches(after, a) &&
        (after.when === undefined || holds(after.when, history, a.occurredAt, facts)) &&
        !history.some((b) => b.occurredAt > a.occurredAt && b.occurredAt <= at && specMatches(c.absent, b))
    )
  }
  return Object.entries(c.trait).every(([k, p]) => predicateHolds(p, factValue(facts, k)))
}

/** Event names whose arrival can change the condition; `undefined` means every event. */
export const readsOf = (c: Condition): ReadonlySet<string> | undefined => {
  const names = new Set<string>()
  let everything = false
  const visit = (x: Condition): void => {
    if ("all" in x) x.all.forEach(visit)
    else if ("any" in x) x.any.forEach(visit)
    else if ("not" in x) visit(x.not)
    else if ("event" in x) names.add(x.event.name)
    else if ("sequence" in x) x.sequence.steps.forEach((s) => names.add(s.name))
    else if ("absent" in x) {
      names.add(x.absent.name)
      names.add(x.absent.after.name)
      if (x.absent.after.when !== undefined) visit(x.absent.after.when)
    } else {
      for (const k of Object.keys(x.trait)) {
        if (k === "sessionCount" || k === "isReturning") names.add("Session Started")
        if (k === "firstSeenAt" || k === "lastSeenAt") everything = true
      }
    }
  }
  visit(c)
  return everything ? undefined : names
}

export interface Decision {
  readonly ruleId: string
  readonly at: number
  readonly outcome: "fired" | "cooldown" | "cap"
}

/**
 * Rising edges, tested at every millisecond from the first event the rule reads (before
 * it the rule has never been decided) up to `until`, then cooldown and caps in time order.
 */
export const decisions = (rules: ReadonlyArray<Rule>, history: ReadonlyArray<Ev>, until: number): Array<Decision> => {
  const out: Array<Decision> = []
  for (const rule of rules) {
    const reads = readsOf(rule.when)
    const first = history.find((e) => reads === undefined || reads.has(e.name))
    if (first === undefined) continue
    const fired: Array<number> = []
    let before = false
    for (let t = first.occurredAt; t <= until; t++) {
      const seen = history.filter((e) => e.occurredAt <= t)
      const now = holds(rule.when, seen, t, factsOf(seen))
      if (now && !before) {
        const cooling = rule.cooldown > 0 && fired.some((f) => f > t - rule.cooldown)
        const capped = (rule.caps ?? []).some((cap) => fired.filter((f) => f > t - cap.per).length >= cap.max)
        const outcome = cooling ? "cooldown" : capped ? "cap" : "fired"
        if (outcome === "fired") fired.push(t)
        out.push({ ruleId: rule.id, at: t, outcome })
      }
      before = now
    }
  }
  return out
}
