import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import type { Condition, EventSpec } from "../src/Condition.js"
import type { Rule, RuleSet } from "../src/RuleSet.js"
import { Backtest, Compiler, Evaluation, RulesState } from "../src/index.js"
import type { Ev } from "./reference.js"
import { decisions, factsOf, holds } from "./reference.js"

const names = ["A", "B", "C", "Session Started"] as const

const where = fc.option(
  fc.oneof(
    fc.record({ p: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.record({ gte: fc.integer({ min: 0, max: 3 }) }), fc.record({ lt: fc.integer({ min: 0, max: 3 }) }), fc.record({ in: fc.constant([0, 2]) }), fc.record({ neq: fc.integer({ min: 0, max: 3 }) })) }),
    fc.record({ s: fc.oneof(fc.constantFrom("x", "y"), fc.record({ startsWith: fc.constant("x") }), fc.record({ contains: fc.constant("y") }), fc.record({ matches: fc.constant("^x+$") }), fc.record({ exists: fc.boolean() })) })
  ),
  { nil: undefined }
)

const spec: fc.Arbitrary<EventSpec> = fc.record({ name: fc.constantFrom(...names), where }).map(({ name, where }) => (where === undefined ? { name } : { name, where }))

const within = fc.integer({ min: 1, max: 40 })

const count = fc.option(
  fc.oneof(fc.record({ gte: fc.integer({ min: 1, max: 3 }) }), fc.record({ lt: fc.integer({ min: 1, max: 3 }) }), fc.record({ eq: fc.integer({ min: 0, max: 2 }) })),
  { nil: undefined }
)

const trait: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ sessionCount: fc.record({ gt: fc.integer({ min: 0, max: 2 }) }) }),
  fc.record({ isReturning: fc.boolean() }),
  fc.record({ firstSeenAt: fc.record({ lt: fc.integer({ min: 0, max: 100 }) }) })
).map((t) => ({ trait: t }))

const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ e: spec, within, count }).map(({ count, e, within }): Condition => ({ event: { ...e, within, ...(count === undefined ? {} : { count }) } })),
    fc.record({ missing: spec, after: spec, within, when: fc.option(tie("condition"), { nil: undefined }) }).map(
      ({ after, missing, when, within }): Condition => ({ absent: { ...missing, within, after: when === undefined ? after : { ...after, when } } })
    ),
    fc.record({ steps: fc.array(spec, { minLength: 2, maxLength: 3 }), within }).map((sequence): Condition => ({ sequence })),
    trait,
    tie("condition").map((c): Condition => ({ not: c })),
    fc.array(tie("condition"), { minLength: 1, maxLength: 3 }).map((all): Condition => ({ all })),
    fc.array(tie("condition"), { minLength: 1, maxLength: 3 }).map((any): Condition => ({ any }))
  )
}))

const rule = (id: string): fc.Arbitrary<Rule> =>
  fc.record({
    when: condition,
    cooldown: fc.constantFrom(0, 5, 30),
    caps: fc.option(fc.array(fc.record({ max: fc.integer({ min: 1, max: 2 }), per: fc.integer({ min: 10, max: 60 }) }), { maxLength: 1 }), { nil: undefined })
  }).map(({ caps, cooldown, when }) => ({
    id,
    version: 1,
    name: id,
    priority: 0,
    when,
    action: { journey: id },
    cooldown,
    ...(caps === undefined ? {} : { caps })
  }))

const ruleSet: fc.Arbitrary<RuleSet> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.tuple(...Array.from({ length: n }, (_, i) => rule(`r${i}`))).map((rules) => ({ rules }))
)

/** Events at distinct, increasing times: simultaneous events are decided in arrival order, which the reference does not model. */
const history: fc.Arbitrary<Array<Ev>> = fc
  .uniqueArray(
    fc.record({
      at: fc.integer({ min: 0, max: 150 }),
      name: fc.constantFrom(...names),
      p: fc.integer({ min: 0, max: 3 }),
      s: fc.constantFrom("x", "xx", "y", "xy")
    }),
    { selector: (e) => e.at, maxLength: 25 }
  )
  .map((events) =>
    events
      .sort((a, b) => a.at - b.at)
      .map((e, i) => ({ id: `e${i}`, name: e.name, occurredAt: e.at, properties: { p: e.p, s: e.s } }))
  )

const until = 260

describe("compiled evaluation agrees with the reference interpreter", () => {
  it("fires, and suppresses by cooldown and cap, exactly when the reference does", () => {
    fc.assert(
      fc.property(ruleSet, history, (set, events) => {
        const compiled = Compiler.compile(set)
        const result = Backtest.backtest(compiled, events.map((e) => ({ ...e, userId: "u" })), { until })
        const actual = [
          ...result.firings.map((f) => ({ ruleId: f.ruleId, at: f.at, outcome: "fired" })),
          ...result.suppressed.map((s) => ({ ruleId: s.ruleId, at: s.at, outcome: s.reason }))
        ]
        const order = (a: { ruleId: string; at: number }, b: { ruleId: string; at: number }) =>
          a.ruleId.localeCompare(b.ruleId) || a.at - b.at
        assert.deepStrictEqual(actual.sort(order), decisions(set.rules, events, until).sort(order))
      }),
      { numRuns: 1000 }
    )
  })

  it("decides any time from bounded state, with events arriving out of order", () => {
    const arrival = history.chain((events) =>
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }).map((shuffled) => ({ events, shuffled }))
    )
    fc.assert(
      fc.property(ruleSet, arrival, fc.integer({ min: 0, max: 220 }), (set, { events, shuffled }, at) => {
        const compiled = Compiler.compile(set, { allowedLatenessMs: 400 })
        let state = RulesState.make()
        for (const e of shuffled) state = Evaluation.observe(compiled, state, e).state
        const facts = factsOf(events)
        for (const rule of set.rules) {
          const expected = holds(rule.when, events.filter((e) => e.occurredAt <= at), at, facts)
          assert.strictEqual(Evaluation.recheck(compiled, state, { ruleId: rule.id, ruleVersion: 1, at }), expected)
        }
      }),
      { numRuns: 1000 }
    )
  })
})

/** Delivers due timers before each event, as the actor does; `swap` may replace the state between steps. */
const drive = (
  events: ReadonlyArray<Ev>,
  pick: (step: number) => Compiler.CompiledRuleSet,
  swap: (state: RulesState.RulesState, step: number) => RulesState.RulesState
) => {
  let state = RulesState.make()
  const decided: Array<string> = []
  const keys: Array<string> = []
  const record = (outcome: Evaluation.Outcome) => {
    state = outcome.state
    for (const m of outcome.matches) {
      decided.push(`${m.ruleId}@${m.at} by ${m.causeEventId}: ${JSON.stringify(m.explanation)}`)
      keys.push(`${m.ruleId} ${m.key}`)
    }
    for (const t of outcome.timers) decided.push(`timer ${t.ruleId}@${t.dueAt}`)
    for (const t of outcome.cancelled) decided.push(`cancel ${t.ruleId}@${t.dueAt}`)
  }
  events.forEach((event, step) => {
    state = swap(state, step)
    const due = [...state.timers].filter((t) => t.dueAt < event.occurredAt).sort((a, b) => a.dueAt - b.dueAt)
    for (const timer of due) record(Evaluation.timerDue(pick(step), state, timer))
    record(Evaluation.observe(pick(step), state, event))
  })
  // As a reader sees it: the edge memory of a rule that does not hold reads the same recorded or missing.
  return { decided, keys, state: JSON.parse(JSON.stringify(RulesState.snapshot(state))) }
}

describe("state kept between calls", () => {
  it("decides the same after snapshots, and when the state moves between compiled rule sets", () => {
    fc.assert(
      fc.property(ruleSet, history, fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }), (set, events, snapshotAt) => {
        const compiled = Compiler.compile(set)
        const other = Compiler.compile(set)
        const straight = drive(events, () => compiled, (state) => state)
        const restored = drive(events, () => compiled, (state, step) => (snapshotAt[step] ? RulesState.revive(JSON.parse(JSON.stringify(RulesState.snapshot(state)))) : state))
        const alternating = drive(events, (step) => (snapshotAt[step] ? other : compiled), (state) => state)
        assert.deepStrictEqual(restored, straight)
        assert.deepStrictEqual(alternating, straight)
      }),
      { numRuns: 500 }
    )
  })
})

describe("views kept for the most recent users only", () => {
  const bystander = (step: number, at: number): Ev => ({ id: `o${step}`, name: "A", occurredAt: at, properties: { p: 0, s: "x" } })

  it("decide the same when other users' events take the only kept view between a user's events", () => {
    fc.assert(
      fc.property(ruleSet, history, fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }), (set, events, busyAt) => {
        const compiled = Compiler.compile(set, { keptViews: 1 })
        let other = RulesState.make()
        const straight = drive(events, () => Compiler.compile(set), (state) => state)
        const forgetting = drive(events, () => compiled, (state, step) => {
          if (busyAt[step]) other = Evaluation.observe(compiled, other, bystander(step, events[step]!.occurredAt)).state
          return state
        })
        assert.deepStrictEqual(forgetting.decided, straight.decided)
        assert.deepStrictEqual(forgetting.state, straight.state)
      }),
      { numRuns: 500 }
    )
  })

  it("leave an idle user with its edge memory, past the bound", () => {
    const compiled = Compiler.compile(
      {
        rules: ["r1", "r2", "r3"].map((id, i) => ({
          id,
          version: 1,
          name: id,
          priority: 0,
          when: { event: { name: i === 0 ? "A" : "B", within: 10 } },
          action: { journey: id },
          cooldown: 0
        }))
      },
      { keptViews: 2 }
    )
    const idle = Evaluation.observe(compiled, RulesState.make(), bystander(0, 1)).state
    // Written through as decided, under the rule's id and version: only r1 reads "A".
    assert.deepStrictEqual({ ...idle.edges }, { "r1@v1": 11 })
    Evaluation.observe(compiled, RulesState.make(), bystander(1, 2))
    Evaluation.observe(compiled, RulesState.make(), bystander(2, 3))
    assert.deepStrictEqual({ ...idle.edges }, { "r1@v1": 11 }, "a third user pushed the idle one's view out")
    // The edge memory is kept: r1 does not fire again while its event is in the window.
    const back = Evaluation.observe(compiled, idle, { ...bystander(3, 4), name: "B" })
    assert.deepStrictEqual(back.matches.map((m) => m.ruleId).sort(), ["r2", "r3"])
    const again = Evaluation.observe(compiled, back.state, bystander(4, 5))
    assert.deepStrictEqual(again.matches, [])
  })

  it("do not keep dropped states alive", async () => {
    v8.setFlagsFromString("--expose-gc")
    const gc = vm.runInNewContext("gc") as () => void
    const compiled = Compiler.compile(
      { rules: [{ id: "r", version: 1, name: "r", priority: 0, when: { event: { name: "A", within: 10 } }, action: { journey: "r" }, cooldown: 0 }] },
      { keptViews: 8 }
    )
    const dropped = Array.from({ length: 4 }, (_, i) => new WeakRef(Evaluation.observe(compiled, RulesState.make(), bystander(i, i)).state))
    // WeakRefs hold their targets until the current job ends.
    await new Promise((resolve) => setTimeout(resolve, 0))
    gc()
    assert.deepStrictEqual(dropped.map((r) => r.deref() === undefined), [true, true, true, true])
  })
})

describe("match keys", () => {
  it("never repeat for a rule, though one anchor can ask for several timers in turn", () => {
    fc.assert(
      fc.property(ruleSet, history, (set, events) => {
        const { keys } = drive(events, () => Compiler.compile(set), (state) => state)
        assert.strictEqual(new Set(keys).size, keys.length, keys.join(", "))
      }),
      { numRuns: 1000 }
    )
  })

  it("differ for two rises a timer decision asks for (fall and rise again by time alone)", () => {
    const compiled = Compiler.compile({
      rules: [{
        id: "r", version: 1, name: "r", priority: 0, cooldown: 0, action: { journey: "r" },
        when: {
          any: [
            { all: [{ absent: { name: "P", within: 10, after: { name: "A" } } }, { event: { name: "A", within: 20 } }] },
            { not: { event: { name: "X", within: 50 } } }
          ]
        }
      }]
    })
    const { keys } = drive(
      [{ id: "a", name: "A", occurredAt: 0, properties: {} }, { id: "x", name: "X", occurredAt: 1, properties: {} }, { id: "y", name: "Z", occurredAt: 30, properties: {} }, { id: "z", name: "Z", occurredAt: 100, properties: {} }],
      () => compiled,
      (state) => state
    )
    assert.deepStrictEqual(keys, ["r a", "r x@10", "r x@51"])
  })
})

describe("index and requirements", () => {
  it("evaluates only the rules an event name can change, and bounds what is kept", () => {
    const compiled = Compiler.compile({
      rules: [
        { id: "a", version: 1, name: "a", priority: 0, cooldown: 0, action: { journey: "a" }, when: { event: { name: "A", within: 10, where: { "plan.tier": "x" } } } },
        { id: "b", version: 1, name: "b", priority: 0, cooldown: 0, action: { journey: "b" }, when: { absent: { name: "B", within: 50, after: { name: "A", when: { event: { name: "C", within: 7, count: { gte: 4 } } } } } } },
        { id: "c", version: 1, name: "c", priority: 0, cooldown: 0, action: { journey: "c" }, when: { trait: { isReturning: true, plan: "pro" } } }
      ]
    }, { allowedLatenessMs: 0, maxEventsPerName: 2 })
    assert.deepStrictEqual(Compiler.rulesFor(compiled, "A").map((r) => r.id), ["a", "b"])
    assert.deepStrictEqual(Compiler.rulesFor(compiled, "Session Started").map((r) => r.id), ["c"])
    assert.deepStrictEqual(Compiler.rulesFor(compiled, "Z"), [])
    assert.deepStrictEqual(compiled.requirements.events["C"], { windowMs: 57, keepMs: 57, maxEvents: 5, properties: [] })
    assert.deepStrictEqual(compiled.requirements.events["A"]?.properties, ["plan"])
    assert.deepStrictEqual(compiled.requirements.traits, ["plan"])
    assert.deepStrictEqual(compiled.requirements.facts, ["isReturning"])
    let state = RulesState.make()
    for (let t = 0; t < 100; t++) state = Evaluation.observe(compiled, state, { id: `${t}`, name: "A", occurredAt: t, properties: { plan: { tier: "x" }, other: 1 } }).state
    assert.deepStrictEqual(state.events["A"], [{ id: "98", occurredAt: 98, properties: { plan: { tier: "x" } } }, { id: "99", occurredAt: 99, properties: { plan: { tier: "x" } } }])
    assert.isUndefined(state.events["Z"])
  })
})

describe("events a rule's filters reject", () => {
  const set: RuleSet = {
    rules: [
      {
        id: "pro-viewer",
        version: 1,
        name: "pro-viewer",
        priority: 0,
        cooldown: 0,
        action: { journey: "j" },
        when: { all: [{ event: { name: "A", where: { p: 1 }, within: 100 } }, { trait: { plan: "pro" } }] }
      }
    ]
  }
  const compiled = Compiler.compile(set)
  const observe = (state: RulesState.RulesState, id: string, occurredAt: number, p: number, rules = compiled) =>
    Evaluation.observe(rules, state, { id, name: "A", occurredAt, properties: { p } })

  it("do not decide it again, unless something else changed what it reads since its last decision", () => {
    const first = observe(RulesState.make(), "1", 1, 1)
    assert.deepStrictEqual(first.matches, [])
    const rejected = observe(first.state, "2", 2, 2)
    assert.deepStrictEqual(rejected.matches, [])
    const identified = observe(RulesState.identify(rejected.state, { plan: "pro" }), "3", 3, 2)
    assert.deepStrictEqual(identified.matches.map((m) => [m.ruleId, m.causeEventId]), [["pro-viewer", "3"]])
  })

  it("are decided again on a view built from another user's released one", () => {
    const oneView = Compiler.compile(set, { keptViews: 1 })
    const rejected = observe(observe(RulesState.make(), "1", 1, 1, oneView).state, "2", 2, 2, oneView)
    const identified = RulesState.identify(rejected.state, { plan: "pro" })
    // Another user's rule is decided through a view that is then released, its numbers free for the next view.
    observe(RulesState.make(), "b", 2, 1, oneView)
    const next = observe(identified, "3", 3, 2, oneView)
    assert.deepStrictEqual(next.matches.map((m) => [m.ruleId, m.causeEventId]), [["pro-viewer", "3"]])
  })
})
