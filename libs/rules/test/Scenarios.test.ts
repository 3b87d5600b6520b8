import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { Backtest, Compiler, Evaluation, RuleSet, RulesState } from "../src/index.js"
import { scenarioRules } from "./scenarioRules.js"

const minute = 60_000
const hour = 60 * minute
const day = 24 * hour
const t0 = Date.UTC(2025, 0, 6, 9)

const compiled = Compiler.compile(Either.getOrThrow(RuleSet.parseRuleSet(scenarioRules, "yaml")))

let counter = 0
const event = (userId: string, name: string, occurredAt: number, properties: Record<string, unknown> = {}) => ({
  userId,
  id: `${userId}-${++counter}`,
  name,
  occurredAt,
  properties
})

/** User A's timeline; the other users of scenario 1 are variations of it. */
const userA = (userId: string) => [
  event(userId, "Session Started", t0 - 3 * day),
  event(userId, "Session Started", t0),
  event(userId, "Viewed Pricing", t0),
  event(userId, "Started Checkout", t0 + 10 * minute)
]

const deadline = t0 + 10 * minute + 48 * hour

const firingsOf = (result: Backtest.Result, ruleId: string) => result.firings.filter((f) => f.ruleId === ruleId)

describe("scenario 1: pricing viewed, no purchase", () => {
  it("A: fires once, at the absence deadline, with its explanation", () => {
    const result = Backtest.backtest(compiled, userA("A"), { until: t0 + 30 * day })
    const firings = firingsOf(result, "pricing-abandon")
    assert.strictEqual(firings.length, 1)
    const firing = firings[0]!
    assert.strictEqual(firing.at, deadline)
    const steps = firing.explanation.steps
    const trait = steps.find((s) => s.kind === "trait")!
    assert.deepStrictEqual(trait.values, { sessionCount: 2 })
    const viewed = steps.find((s) => s.kind === "event")!
    assert.deepStrictEqual(viewed.events?.map((e) => [e.name, e.at]), [["Viewed Pricing", t0]])
    const absent = steps.find((s) => s.kind === "absent")!
    assert.isTrue(absent.held)
    assert.deepStrictEqual(absent.events?.map((e) => [e.name, e.at]), [["Started Checkout", t0 + 10 * minute]])
    assert.deepStrictEqual(absent.window, { from: t0 + 10 * minute, to: deadline })
    assert.isTrue(JSON.stringify(firing.explanation).length < 2_000)
  })

  it("B: a purchase inside the window drops the deadline", () => {
    const state = RulesState.make()
    let outcome = Evaluation.observe(compiled, state, userA("B")[0]!)
    for (const e of userA("B").slice(1)) outcome = Evaluation.observe(compiled, outcome.state, e)
    assert.deepStrictEqual(outcome.timers.map((t) => [t.ruleId, t.dueAt]), [["pricing-abandon", deadline]])
    outcome = Evaluation.observe(compiled, outcome.state, event("B", "Completed Purchase", t0 + 5 * hour))
    assert.deepStrictEqual(outcome.cancelled.map((t) => t.dueAt), [deadline])
    const result = Backtest.backtest(compiled, [...userA("B"), event("B", "Completed Purchase", t0 + 5 * hour)])
    assert.strictEqual(firingsOf(result, "pricing-abandon").length, 0)
  })

  it("C: a first visit does not fire", () => {
    const result = Backtest.backtest(compiled, userA("C").slice(1), { until: t0 + 30 * day })
    assert.strictEqual(result.firings.length, 0)
  })

  it("D: fires at the deadline, and a late purchase inside the window disproves it", () => {
    let state = RulesState.make()
    const timers = []
    for (const e of userA("D")) {
      const outcome = Evaluation.observe(compiled, state, e)
      state = outcome.state
      timers.push(...outcome.timers)
    }
    const due = Evaluation.timerDue(compiled, state, timers.at(-1)!)
    assert.strictEqual(due.matches.length, 1)
    const fired = due.matches[0]!
    assert.strictEqual(fired.at, deadline)
    assert.isTrue(Evaluation.recheck(compiled, due.state, fired))
    const late = Evaluation.observe(compiled, due.state, event("D", "Completed Purchase", t0 + 47 * hour))
    assert.strictEqual(late.matches.length, 0)
    assert.isFalse(Evaluation.recheck(compiled, late.state, fired))
  })

  it("E: the second would-be firing is suppressed by the 7 d cooldown", () => {
    const history = [
      ...userA("E"),
      event("E", "Viewed Pricing", t0 + 49 * hour),
      event("E", "Started Checkout", t0 + 49 * hour + minute)
    ]
    const result = Backtest.backtest(compiled, history, { until: t0 + 30 * day })
    assert.deepStrictEqual(firingsOf(result, "pricing-abandon").map((f) => f.at), [deadline])
    assert.deepStrictEqual(
      result.suppressed.map((s) => [s.ruleId, s.reason, s.at]),
      [["pricing-abandon", "cooldown", t0 + 97 * hour + minute]]
    )
  })

  it("a timer delivered after later events is still decided at its due time", () => {
    let state = RulesState.make()
    for (const e of userA("A2")) state = Evaluation.observe(compiled, state, e).state
    const outcome = Evaluation.observe(compiled, state, event("A2", "Viewed Pricing", deadline + hour))
    assert.deepStrictEqual(outcome.matches.map((m) => [m.ruleId, m.at]), [["pricing-abandon", deadline]])
  })
})

describe("scenario 2: advanced feature viewed, not used", () => {
  const viewed = (userId: string, tier: string) => event(userId, "Viewed Feature", t0, { tier })

  it("F: fires at t0 + 72 h", () => {
    const result = Backtest.backtest(compiled, [viewed("F", "advanced")], { until: t0 + 10 * day })
    assert.deepStrictEqual(result.firings.map((f) => [f.ruleId, f.at]), [["advanced-feature-nudge", t0 + 72 * hour]])
  })

  it("G: fires at t0 + 72 h; the later use does not undo it", () => {
    const history = [viewed("G", "advanced"), event("G", "Used Feature", t0 + 74 * hour, { tier: "advanced" })]
    const result = Backtest.backtest(compiled, history, { until: t0 + 10 * day })
    assert.deepStrictEqual(result.firings.map((f) => [f.ruleId, f.at]), [["advanced-feature-nudge", t0 + 72 * hour]])
  })

  it("H: a basic feature does not fire", () => {
    const result = Backtest.backtest(compiled, [viewed("H", "basic")], { until: t0 + 10 * day })
    assert.strictEqual(result.firings.length, 0)
  })
})

describe("scenarios 3 and 4: what the resolver needs on each match", () => {
  it("every rule on the same Abandoned Cart matches, with priority, group and caps", () => {
    const outcome = Evaluation.observe(compiled, RulesState.make(), event("I", "Abandoned Cart", t0))
    assert.deepStrictEqual(
      outcome.matches.map((m) => [m.ruleId, m.priority, m.group, m.caps.length]),
      [["discount-offer", 10, "promo", 1], ["gentle-reminder", 5, "promo", 0], ["survey", 1, undefined, 0]]
    )
  })

  it("win-back carries its consent category and fires once the user has gone quiet", () => {
    const history = [event("J", "Session Started", t0), event("J", "Completed Purchase", t0 + hour)]
    const result = Backtest.backtest(compiled, history, { until: t0 + 20 * day })
    assert.deepStrictEqual(
      result.firings.map((f) => [f.ruleId, f.consent, f.at]),
      [["win-back", "marketing", t0 + 14 * day]]
    )
  })
})
