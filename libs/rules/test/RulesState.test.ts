import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { Compiler, Cooldown, Evaluation, Explanation, RuleSet, RulesState } from "../src/index.js"
import { scenarioRules } from "./scenarioRules.js"

const compiled = Compiler.compile(Either.getOrThrow(RuleSet.parseRuleSet(scenarioRules, "yaml")))
const hour = 3_600_000

describe("RulesState", () => {
  it("survives a JSON snapshot: the restored state decides the pending timer the same way", () => {
    let state = RulesState.make()
    const history = [
      { id: "1", name: "Session Started", occurredAt: 0, properties: {} },
      { id: "2", name: "Session Started", occurredAt: 72 * hour, properties: {} },
      { id: "3", name: "Viewed Pricing", occurredAt: 72 * hour, properties: {} },
      { id: "4", name: "Started Checkout", occurredAt: 73 * hour, properties: {} }
    ]
    const timers = history.flatMap((event) => {
      const outcome = Evaluation.observe(compiled, state, event)
      state = outcome.state
      return outcome.timers
    })
    const restored = RulesState.revive(JSON.parse(JSON.stringify(state)))
    const live = Evaluation.timerDue(compiled, state, timers[0]!)
    const replayed = Evaluation.timerDue(compiled, restored, timers[0]!)
    assert.deepStrictEqual(replayed.matches, live.matches)
    assert.strictEqual(live.matches[0]?.at, 121 * hour)
    assert.strictEqual(live.matches[0]?.explanation.steps[0]?.kind, "trait")
  })

  it("revives snapshots written when timers were a record by rule id and false rules had no edge entry", () => {
    let state = RulesState.make()
    const timers = [
      { id: "1", name: "Session Started", occurredAt: 0, properties: {} },
      { id: "2", name: "Session Started", occurredAt: 72 * hour, properties: {} },
      { id: "3", name: "Viewed Pricing", occurredAt: 72 * hour, properties: {} },
      { id: "4", name: "Started Checkout", occurredAt: 73 * hour, properties: {} }
    ].flatMap((event) => {
      const outcome = Evaluation.observe(compiled, state, event)
      state = outcome.state
      return outcome.timers
    })
    const snapshot = JSON.parse(JSON.stringify(state))
    const old = {
      ...snapshot,
      timers: Object.fromEntries(snapshot.timers.map((t: { ruleId: string }) => [t.ruleId, t])),
      edges: Object.fromEntries(Object.entries(snapshot.edges).filter(([, until]) => until !== RulesState.notHolding))
    }
    const live = Evaluation.timerDue(compiled, state, timers[0]!)
    const replayed = Evaluation.timerDue(compiled, RulesState.revive(old), timers[0]!)
    assert.deepStrictEqual(replayed.matches, live.matches)
    assert.deepStrictEqual(replayed.state.timers, live.state.timers)
  })

  it("snapshots only the edge memory of rules that hold, and decides the same from it", () => {
    let state = RulesState.make()
    const history = [
      { id: "1", name: "Session Started", occurredAt: 0, properties: {} },
      { id: "2", name: "Abandoned Cart", occurredAt: hour, properties: {} },
      { id: "3", name: "Viewed Feature", occurredAt: 2 * hour, properties: { tier: "advanced" } }
    ]
    for (const event of history) state = Evaluation.observe(compiled, state, event).state
    const holding = Object.keys(state.edges).filter((id) => state.edges[id] !== RulesState.notHolding)
    assert.isAbove(holding.length, 0)
    assert.isBelow(holding.length, compiled.rules.length)
    const written = JSON.parse(JSON.stringify(RulesState.snapshot(state)))
    assert.deepStrictEqual(Object.keys(written.edges).sort(), holding.sort())
    const next = { id: "4", name: "Abandoned Cart", occurredAt: 30 * hour, properties: {} }
    const live = Evaluation.observe(compiled, structuredClone(state), next)
    const restored = Evaluation.observe(compiled, RulesState.revive(written), next)
    assert.isAbove(live.matches.length, 0)
    assert.deepStrictEqual(restored.matches, live.matches)
    assert.deepStrictEqual(restored.timers, live.timers)
  })

  it("ignores a timer it no longer holds (replaced, cancelled or already decided)", () => {
    const state = RulesState.make()
    const outcome = Evaluation.timerDue(compiled, state, { ruleId: "pricing-abandon", ruleVersion: 1, dueAt: 5, anchorEventId: "x" })
    assert.deepStrictEqual([outcome.matches, outcome.timers, outcome.cancelled], [[], [], []])
  })

  it("builds every state with the same fields in the same order, so they share one hidden class", () => {
    const fresh = RulesState.make()
    const identified = RulesState.identify(fresh, { plan: "pro" })
    const revived = RulesState.revive(JSON.parse(JSON.stringify(identified)))
    for (const state of [identified, revived]) {
      assert.deepStrictEqual(Object.keys(state), Object.keys(fresh))
      assert.deepStrictEqual(Object.keys(state.facts), Object.keys(fresh.facts))
    }
  })

  it("merges traits, null clears one", () => {
    const state = RulesState.identify(RulesState.identify(RulesState.make(), { plan: "pro", seats: 3 }), { seats: null, tz: "Europe/Paris" })
    assert.deepStrictEqual(state.traits, { plan: "pro", tz: "Europe/Paris" })
  })

  it("cooldowns and caps count only recorded firings, within their windows", () => {
    const rule = compiled.byId.get("discount-offer")!
    let state = RulesState.make()
    assert.isFalse(Cooldown.coolingDown(rule, state, 0))
    state = Cooldown.recordFiring(state, rule, 0)
    assert.isTrue(Cooldown.coolingDown(rule, state, 23 * hour))
    assert.isFalse(Cooldown.coolingDown(rule, state, 24 * hour))
    state = Cooldown.recordFiring(state, rule, 1)
    assert.deepStrictEqual(Cooldown.capReached(rule, state, 2), { max: 2, per: 24 * hour })
    assert.isUndefined(Cooldown.capReached(rule, state, 24 * hour + 1))
  })

  it("bounds explanations: steps, and events per step", () => {
    const rule = (when: object) =>
      Compiler.compile({ rules: [{ id: "r", version: 1, name: "r", priority: 0, cooldown: 0, action: { journey: "r" }, when: when as never }] })
    const wide = rule({ all: Array.from({ length: 40 }, (_, i) => ({ event: { name: "A", within: 1_000 + i } })) })
    const first = Evaluation.observe(wide, RulesState.make(), { id: "x", name: "A", occurredAt: 1, properties: {} }).matches[0]!
    assert.strictEqual(first.explanation.steps.length, Explanation.maxSteps)
    assert.isTrue(first.explanation.truncated)
    const deep = rule({ event: { name: "A", within: 1_000, count: { gte: 10 } } })
    let state = RulesState.make()
    const matches = []
    for (let t = 1; t <= 10; t++) {
      const outcome = Evaluation.observe(deep, state, { id: `${t}`, name: "A", occurredAt: t, properties: {} })
      state = outcome.state
      matches.push(...outcome.matches)
    }
    const step = matches[0]!.explanation.steps[0]!
    assert.deepStrictEqual([step.count, step.events?.length, matches[0]!.explanation.truncated], [10, Explanation.maxEventsPerStep, true])
  })
})
