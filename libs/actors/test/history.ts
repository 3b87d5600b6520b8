import { UserEvent } from "@nudge/domain"
import { RuleSet } from "@nudge/rules"
import { Either } from "effect"
import { ActiveRules } from "../src/index.js"

/** Rules that fire, suppress (group, cooldown, user cap) and wait on absence deadlines, as published (YAML). */
export const rulesYaml = `caps: [{ max: 3, per: 1d }]
rules:
  - { id: twice, version: 1, name: t, priority: 2, group: g, cooldown: 30m, action: { journey: j }, when: { event: { name: Viewed Pricing, within: 1h, count: { gte: 2 } } } }
  - { id: once, version: 1, name: o, priority: 1, group: g, cooldown: 0s, action: { journey: j }, when: { event: { name: Viewed Pricing, within: 1h } } }
  - { id: no-buy, version: 1, name: n, priority: 3, cooldown: 0s, action: { journey: j }, when: { absent: { name: Completed Purchase, within: 10m, after: Viewed Pricing } } }
  - { id: returning, version: 1, name: r, priority: 0, cooldown: 1h, action: { journey: j }, when: { all: [{ trait: { sessionCount: { gt: 1 } } }, { event: { name: Completed Purchase, within: 2h } }] } }`

export const rules = ActiveRules.make(1, Either.getOrThrow(RuleSet.parseRuleSet(rulesYaml, "yaml")))

/** A fixed, interleaved history: 24 users, 14 events each, names and gaps from a small deterministic generator. */
export const history = () => {
  let seed = 7
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const names = ["Viewed Pricing", "Viewed Pricing", "Completed Purchase", "Session Started"]
  const events: Array<UserEvent.Tracked> = []
  let t = Date.UTC(2026, 0, 1)
  for (let i = 0; i < 24 * 14; i++) {
    t += Math.floor(next() * 4 * 60_000)
    const userId = `u-${Math.floor(next() * 24)}`
    events.push(
      new UserEvent.Tracked({
        messageId: `m-${i}`,
        userId,
        name: names[Math.floor(next() * names.length)]!,
        occurredAt: t,
        receivedAt: t,
        properties: {},
        context: {}
      })
    )
  }
  return events
}
