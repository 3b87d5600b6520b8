import { assert, describe, it } from "@effect/vitest"
import { EventId, TriggerEvent, UserEvent } from "@nudge/domain"
import { EventStore, type RecordedEvent, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { RuleSet } from "@nudge/rules"
import { SqliteState } from "@nudge/state"
import { Effect, Either, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ActiveRules, UserActors } from "../src/index.js"

const rules = ActiveRules.make(
  1,
  Either.getOrThrow(
    RuleSet.parseRuleSet(
      `caps: [{ max: 3, per: 1d }]
rules:
  - { id: twice, version: 1, name: t, priority: 2, group: g, cooldown: 30m, action: { journey: j }, when: { event: { name: Viewed Pricing, within: 1h, count: { gte: 2 } } } }
  - { id: once, version: 1, name: o, priority: 1, group: g, cooldown: 0s, action: { journey: j }, when: { event: { name: Viewed Pricing, within: 1h } } }
  - { id: no-buy, version: 1, name: n, priority: 3, cooldown: 0s, action: { journey: j }, when: { absent: { name: Completed Purchase, within: 10m, after: Viewed Pricing } } }
  - { id: returning, version: 1, name: r, priority: 0, cooldown: 1h, action: { journey: j }, when: { all: [{ trait: { sessionCount: { gt: 1 } } }, { event: { name: Completed Purchase, within: 2h } }] } }`,
      "yaml"
    )
  )
)

/** A fixed, interleaved history: 24 users, 14 events each, names and gaps from a small deterministic generator. */
const history = () => {
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

/** Stores the history, hands it to the actors in chunks as the router would, and returns every user's decisions. */
const decide = (maxLiveUsers: number) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const actors = yield* UserActors.UserActors
    yield* actors.setRules(rules)
    const recorded: Array<RecordedEvent> = []
    for (const event of history()) {
      const id = EventId.forMessage(event.messageId)
      yield* store.append(UserEvent.streamOf(event.userId), [{ id, ...UserEvent.encode(event) }], "any")
      recorded.push((yield* store.read(UserEvent.streamOf(event.userId), { direction: "backwards", maxCount: 1 }))[0]!)
    }
    for (let i = 0; i < recorded.length; i += 5) yield* actors.handle(recorded.slice(i, i + 5))
    const decisions: Record<string, ReadonlyArray<unknown>> = {}
    for (let u = 0; u < 24; u++) {
      const stream = yield* store.read(TriggerEvent.streamOf(`u-${u}`))
      decisions[`u-${u}`] = stream.map((e) => [e.id, e.type, e.data])
    }
    return decisions
  }).pipe(
    Effect.provide(
      UserActors.layer({ maxLiveUsers, snapshotEvery: 3, partitions: 1 }).pipe(
        Layer.provideMerge(
          Layer.merge(SqliteEventStore.layerSqlite, SqliteState.layerSqlite).pipe(
            Layer.provide(SqliteDatabase.layer({ filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-passivation-")), "events.db") }))
          )
        )
      )
    )
  )

describe("UserActors passivation", () => {
  it.effect(
    "decides exactly the same whether users stay live or are passivated and reactivated between every few events",
    () =>
      Effect.gen(function* () {
        const live = yield* decide(1_000)
        const churned = yield* decide(2)
        const count = Object.values(live).reduce((n, d) => n + d.length, 0)
        assert.isAbove(count, 50)
        assert.deepStrictEqual(churned, live)
      }),
    60_000
  )
})
