import { assert, describe, it } from "@effect/vitest"
import { EventId, type TriggerEvent, UserEvent } from "@nudge/domain"
import { RuleSet, RulesState } from "@nudge/rules"
import { Either } from "effect"
import { ActiveRules, UserDecider, UserState } from "../src/index.js"

const hour = 3_600_000
const t0 = Date.UTC(2026, 10, 1, 12)

const rules = (yaml: string) => ActiveRules.make(1, Either.getOrThrow(RuleSet.parseRuleSet(yaml, "yaml")))

const promo = rules(`
caps: [{ max: 2, per: 24h }]
rules:
  - { id: discount-offer, version: 1, name: d, priority: 10, group: promo, cooldown: 0s, action: { journey: discount, experiment: size }, when: { event: { name: Abandoned Cart, within: 1h } } }
  - { id: gentle-reminder, version: 1, name: g, priority: 5, group: promo, cooldown: 0s, action: { journey: reminder }, when: { event: { name: Abandoned Cart, within: 1h } } }
  - { id: survey, version: 1, name: s, priority: 1, cooldown: 0s, action: { journey: survey }, when: { event: { name: Abandoned Cart, within: 1h } } }
  - { id: fourth, version: 1, name: f, priority: 1, cooldown: 0s, action: { journey: fourth }, when: { event: { name: Visited Help, within: 1h } } }
  - { id: win-back, version: 1, name: w, priority: 1, cooldown: 0s, consent: marketing, action: { journey: win-back }, when: { event: { name: Went Quiet, within: 1h } } }
`)

let revision = 0
const tracked = (name: string, at: number, userId = "u1"): UserDecider.Input => {
  const messageId = `${userId}-${name}-${at}-${revision}`
  return {
    event: new UserEvent.Tracked({ messageId, userId, name, occurredAt: at, receivedAt: at, properties: {}, context: {} }),
    eventId: EventId.forMessage(messageId),
    revision: revision++
  }
}

const consent = (granted: boolean, at: number): UserDecider.Input => ({
  event: new UserEvent.ConsentChanged({ messageId: `c-${at}`, userId: "u1", category: "marketing", granted, occurredAt: at, receivedAt: at }),
  eventId: EventId.forMessage(`c-${at}`),
  revision: revision++
})

/** The timer's due input, as the timer service appends it. */
const due = (timer: TriggerEvent.TimerScheduled): UserDecider.Input => ({
  event: new UserEvent.TimerDue({ userId: "u1", ruleId: timer.ruleId, ruleVersion: timer.ruleVersion, dueAt: timer.dueAt, anchorEventId: timer.anchorEventId }),
  eventId: `timer-${revision}`,
  revision: revision++
})

const timerOf = (decisions: ReadonlyArray<TriggerEvent.TriggerEvent>) => decisions.find((d) => d._tag === "TimerScheduled") as TriggerEvent.TimerScheduled

/** The decisions of each input in turn, under `active` (or the rules in force at each input). */
const run = (active: ActiveRules.ActiveRules | ((input: number) => ActiveRules.ActiveRules), inputs: ReadonlyArray<UserDecider.Input>) => {
  let state = UserState.empty("u1")
  const perInput: Array<ReadonlyArray<TriggerEvent.TriggerEvent>> = []
  for (const [i, input] of inputs.entries()) {
    const decided = UserDecider.decide(typeof active === "function" ? active(i) : active, state, input)
    state = decided.state
    perInput.push(decided.decisions)
  }
  return { state, perInput }
}

const summary = (decisions: ReadonlyArray<TriggerEvent.TriggerEvent>) =>
  decisions.map((d) =>
    d._tag === "TriggerFired" ? `fired ${d.ruleId}` : d._tag === "TriggerSuppressed" ? `suppressed ${d.ruleId} (${d.reason})` : `${d._tag} ${d.ruleId}`
  )

describe("UserDecider", () => {
  it("orders by priority, lets one rule of a group fire, and caps the user across rules (scenario 3)", () => {
    const { perInput } = run(promo, [
      tracked("Abandoned Cart", t0),
      tracked("Visited Help", t0 + hour),
      tracked("Visited Help", t0 + 25 * hour)
    ])
    assert.deepStrictEqual(summary(perInput[0]!), [
      "fired discount-offer",
      "suppressed gentle-reminder (group)",
      "fired survey"
    ])
    assert.deepStrictEqual(summary(perInput[1]!), ["suppressed fourth (user_cap)"])
    assert.deepStrictEqual(summary(perInput[2]!), ["fired fourth"])
    const lost = perInput[0]![1] as TriggerEvent.TriggerSuppressed
    assert.match(lost.detail, /lost to discount-offer \(priority 10\) in group promo/)
  })

  it("needs the rule's consent category (scenario 4)", () => {
    const { perInput } = run(promo, [
      tracked("Went Quiet", t0),
      consent(true, t0 + hour),
      tracked("Went Quiet", t0 + 3 * hour),
      consent(false, t0 + 4 * hour),
      tracked("Went Quiet", t0 + 6 * hour)
    ])
    assert.deepStrictEqual(summary(perInput[0]!), ["suppressed win-back (consent)"])
    assert.deepStrictEqual(summary(perInput[2]!), ["fired win-back"])
    assert.deepStrictEqual(summary(perInput[4]!), ["suppressed win-back (consent)"])
  })

  it("gives the same decisions and ids on a replay, and records the experiment variant", () => {
    const inputs = [tracked("Abandoned Cart", t0)]
    const first = run(promo, inputs).perInput[0]!
    const again = run(promo, inputs).perInput[0]!
    assert.deepStrictEqual(again, first)
    const fired = first[0] as TriggerEvent.TriggerFired
    assert.strictEqual(fired.experiment, "size")
    assert.include(["control", "treatment"], fired.variant)
  })

  it("schedules the absence deadline, fires at it, and retracts when a late purchase inside the window arrives (scenario 1, user D)", () => {
    const seed = rules(`
rules:
  - id: pricing-abandon
    version: 1
    name: p
    priority: 10
    cooldown: 7d
    action: { journey: pricing-abandon }
    when:
      absent:
        name: Completed Purchase
        within: 48h
        after:
          name: Started Checkout
          when:
            all:
              - trait: { sessionCount: { gt: 1 } }
              - event: { name: Viewed Pricing, within: 48h }
`)
    const checkout = t0 + 10 * 60_000
    const deadline = checkout + 48 * hour
    const prefix = [
      tracked("Session Started", t0 - 72 * hour),
      tracked("Session Started", t0),
      tracked("Viewed Pricing", t0),
      tracked("Started Checkout", checkout)
    ]
    const timer = timerOf(run(seed, prefix).perInput[3]!)
    assert.strictEqual(timer.dueAt, deadline)
    const { perInput } = run(seed, [...prefix, due(timer), tracked("Completed Purchase", t0 + 47 * hour)])
    assert.deepStrictEqual(summary(perInput[4]!), ["fired pricing-abandon"])
    const fired = perInput[4]![0] as TriggerEvent.TriggerFired
    assert.strictEqual(fired.at, deadline)
    const retracted = perInput[5]!.filter((d) => d._tag === "FiringRetracted")
    assert.strictEqual(retracted.length, 1)
    assert.strictEqual((retracted[0] as TriggerEvent.FiringRetracted).firingId, fired.firingId)
  })

  const abandon = (version: number) =>
    ActiveRules.make(
      version,
      Either.getOrThrow(
        RuleSet.parseRuleSet(
          `rules:
  - { id: abandon, version: ${version}, name: a, priority: 1, cooldown: 0s, action: { journey: j }, when: { absent: { name: Completed Purchase, within: 48h, after: Started Checkout } } }`,
          "yaml"
        )
      )
    )

  it("decides a deadline pending when its rule gets a new version with that version, instead of dropping it", () => {
    const timer = timerOf(run(abandon(1), [tracked("Started Checkout", t0)]).perInput[0]!)
    const { perInput } = run((i) => abandon(i === 0 ? 1 : 2), [tracked("Started Checkout", t0), due(timer)])
    assert.deepStrictEqual(summary(perInput[1]!), ["fired abandon"])
    assert.strictEqual((perInput[1]![0] as TriggerEvent.TriggerFired).ruleVersion, 2)
  })

  it("retracts a firing when a purchase at the very deadline arrives after it", () => {
    const timer = timerOf(run(abandon(1), [tracked("Started Checkout", t0)]).perInput[0]!)
    const { perInput } = run(abandon(1), [tracked("Started Checkout", t0), due(timer), tracked("Completed Purchase", timer.dueAt)])
    assert.deepStrictEqual(summary(perInput[1]!), ["fired abandon"])
    assert.deepStrictEqual(summary(perInput[2]!), ["FiringRetracted abandon"])
  })

  it("caps the user across rules when a deadline fires at an earlier time than a firing already made", () => {
    const capped = rules(`
caps: [{ max: 1, per: 24h }]
rules:
  - { id: cart, version: 1, name: c, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: Abandoned Cart, within: 1h } } }
  - { id: abandon, version: 1, name: a, priority: 1, cooldown: 0s, action: { journey: j }, when: { absent: { name: Completed Purchase, within: 1h, after: Started Checkout } } }
`)
    const timer = timerOf(run(capped, [tracked("Started Checkout", t0)]).perInput[0]!)
    // The cart event, a minute after the deadline, is decided before the timer service delivers the deadline.
    const { perInput } = run(capped, [tracked("Started Checkout", t0), tracked("Abandoned Cart", t0 + hour + 60_000), due(timer)])
    assert.deepStrictEqual(summary(perInput[1]!), ["fired cart"])
    assert.deepStrictEqual(summary(perInput[2]!), ["suppressed abandon (user_cap)"])
  })

  it("decides rules on traits when the user is identified, without waiting for an event", () => {
    const pro = rules(`
rules:
  - { id: pro, version: 1, name: p, priority: 1, cooldown: 0s, action: { journey: j }, when: { trait: { plan: pro } } }
`)
    const identified: UserDecider.Input = {
      event: new UserEvent.Identified({ messageId: "i-1", userId: "u1", occurredAt: t0, receivedAt: t0, traits: { plan: "pro" } }),
      eventId: EventId.forMessage("i-1"),
      revision: revision++
    }
    const { perInput } = run(pro, [identified, tracked("Session Started", t0 + 1_000)])
    assert.deepStrictEqual(perInput.map(summary), [["fired pro"], []])
  })

  it("lets a new version of a rule rise on its own condition while the old version's memory still holds", () => {
    const onEvent = (version: number, name: string) =>
      ActiveRules.make(
        version,
        Either.getOrThrow(
          RuleSet.parseRuleSet(
            `rules:
  - { id: r, version: ${version}, name: r, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: ${name}, within: 48h } } }`,
            "yaml"
          )
        )
      )
    const { perInput } = run((i) => (i === 0 ? onEvent(1, "A") : onEvent(2, "B")), [tracked("A", t0), tracked("B", t0 + hour)])
    assert.deepStrictEqual(perInput.map(summary), [["fired r"], ["fired r"]])
  })

  it("reads edge memory that states written before versioned keys hold under the bare rule id", () => {
    const once = rules(`
rules:
  - { id: once, version: 1, name: o, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: Viewed Pricing, within: 1h } } }
`)
    const first = run(once, [tracked("Viewed Pricing", t0)])
    const edges = first.state.rules.edges
    const older = { ...first.state, rules: RulesState.revive({ ...first.state.rules, edges: { once: edges["once@v1"]! } }) }
    // Still true from the first view: no second firing, from the bare key or from the versioned one written after it.
    const second = UserDecider.decide(once, older, tracked("Viewed Pricing", t0 + 60_000))
    const third = UserDecider.decide(once, second.state, tracked("Viewed Pricing", t0 + 120_000))
    assert.deepStrictEqual([second.decisions, third.decisions], [[], []])
    assert.deepStrictEqual(Object.keys(third.state.rules.edges), ["once@v1"])
  })

  it("lets a retracted firing hold no cooldown: the next deadline fires, as a backtest of the same history has it", () => {
    const weekly = rules(`
rules:
  - { id: abandon, version: 1, name: a, priority: 1, cooldown: 7d, action: { journey: j }, when: { absent: { name: Completed Purchase, within: 48h, after: Started Checkout } } }
`)
    const first = timerOf(run(weekly, [tracked("Started Checkout", t0)]).perInput[0]!)
    const prefix = [tracked("Started Checkout", t0), due(first), tracked("Completed Purchase", t0 + 47 * hour), tracked("Started Checkout", t0 + 60 * hour)]
    const second = timerOf(run(weekly, prefix).perInput[3]!)
    const { perInput } = run(weekly, [...prefix, due(second)])
    const outcomes = perInput.map((decisions) => summary(decisions).filter((d) => !d.startsWith("TimerScheduled")))
    assert.deepStrictEqual(outcomes, [[], ["fired abandon"], ["FiringRetracted abandon"], [], ["fired abandon"]])
  })
})
