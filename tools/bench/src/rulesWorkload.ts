/**
 * The rule sets and event streams the rules bench runs: the same rules expressed for Nudge
 * and for json-rules-engine, and a mixed 100-rule set over 20 event names.
 */
import type { RuleSet as RuleSets } from "@nudge/rules"

type RuleSet = RuleSets.RuleSet
type Rule = RuleSets.Rule

const hour = 3_600_000
const tiers = ["basic", "advanced", "enterprise"] as const
const plans = [["free"], ["pro", "team"], ["team", "enterprise"], ["pro"]] as const

/** Rule `i` of the comparison set: a current-event condition plus two trait predicates. */
const comparable = (i: number) => ({
  id: `r${i}`,
  tier: tiers[i % tiers.length]!,
  plans: plans[i % plans.length]!,
  seats: i % 40
})

export const comparisonRuleSet = (n: number): RuleSet => ({
  rules: Array.from({ length: n }, (_, i): Rule => {
    const r = comparable(i)
    return {
      id: r.id,
      version: 1,
      name: r.id,
      priority: i,
      cooldown: 0,
      action: { journey: r.id },
      when: {
        all: [
          { event: { name: "Viewed Feature", where: { tier: { eq: r.tier } }, within: hour } },
          { trait: { plan: { in: r.plans } } },
          { trait: { seats: { gte: r.seats } } }
        ]
      }
    }
  })
})

export const comparisonJsonRules = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const r = comparable(i)
    return {
      name: r.id,
      priority: 1,
      conditions: {
        all: [
          { fact: "event", operator: "equal", value: "Viewed Feature" },
          { fact: "tier", operator: "equal", value: r.tier },
          { fact: "plan", operator: "in", value: [...r.plans] },
          { fact: "seats", operator: "greaterThanInclusive", value: r.seats }
        ]
      },
      event: { type: r.id }
    }
  })

export const comparisonTraits = { plan: "pro", seats: 25 }

export const comparisonEvent = (i: number) => ({
  id: `e${i}`,
  name: "Viewed Feature",
  occurredAt: i * 1_000,
  properties: { tier: tiers[i % tiers.length]! }
})

const names = Array.from({ length: 20 }, (_, i) => `Event ${i}`)

/** 100 rules of every kind, five reading each of 20 event names, with windows from minutes to a week. */
export const mixedRuleSet: RuleSet = {
  rules: Array.from({ length: 100 }, (_, i): Rule => {
    const name = names[i % names.length]!
    const other = names[(i + 7) % names.length]!
    const within = [5 * 60_000, hour, 24 * hour, 7 * 24 * hour][i % 4]!
    const whens = [
      { all: [{ event: { name, where: { plan: { in: ["pro", "team"] } }, within } }, { trait: { isReturning: true } }] },
      { event: { name, count: { gte: 3 }, within } },
      { sequence: { steps: [{ name: other }, { name }], within } },
      { absent: { name: other, within, after: { name, where: { value: { gt: 50 } } } } },
      { all: [{ event: { name, within } }, { not: { event: { name: other, within } } }] }
    ]
    return {
      id: `m${i}`,
      version: 1,
      name: `m${i}`,
      priority: i % 10,
      cooldown: hour,
      action: { journey: `j${i % 7}` },
      when: whens[Math.floor(i / names.length) % whens.length]!
    }
  })
}

/**
 * A deterministic stream over `users` users, one event per 100 ms of event time, names and
 * values pseudo-random. `sessionLength` consecutive events come from the same user (1: every
 * event from a random user, the worst case for memory locality; clickstreams come in sessions).
 */
export const mixedEvents = (count: number, users: number, sessionLength: number) => {
  // mulberry32: a small PRNG with 32-bit integer arithmetic, so the stream is the same every run.
  let seed = 42
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  let user = 0
  return Array.from({ length: count }, (_, i) => {
    if (i % sessionLength === 0) user = Math.floor(random() * users)
    return {
      user,
      event: {
        id: `e${i}`,
        name: random() < 0.1 ? "Session Started" : names[Math.floor(random() * names.length)]!,
        occurredAt: 1_700_000_000_000 + i * 100,
        properties: { plan: random() < 0.5 ? "pro" : "free", value: Math.floor(random() * 100), page: "/app/settings" }
      }
    }
  })
}
