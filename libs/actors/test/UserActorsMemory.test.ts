import { assert, describe, it } from "@effect/vitest"
import { EventId, UserEvent } from "@nudge/domain"
import { type RecordedEvent, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { RuleSet } from "@nudge/rules"
import { SqliteState } from "@nudge/state"
import { Effect, Either, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ActiveRules, UserActors } from "../src/index.js"

const users = Number(process.env.NUDGE_MEMORY_TEST_USERS ?? 1_000_000)
const maxLiveUsers = 10_000
/** The ceiling the engine promises for this many users: live states are bounded, passivated ones live in the store. */
const heapCeilingBytes = 400 * 1024 * 1024

const rules = ActiveRules.make(
  1,
  Either.getOrThrow(
    RuleSet.parseRuleSet(
      `rules:
  - { id: viewed, version: 1, name: v, priority: 1, cooldown: 1d, action: { journey: j }, when: { event: { name: Viewed Pricing, within: 1h, count: { gte: 2 } } } }`,
      "yaml"
    )
  )
)

const tracked = (i: number, t: number): RecordedEvent => {
  const userId = `mem-${i}`
  const event = new UserEvent.Tracked({
    messageId: `m-${i}`,
    userId,
    name: "Viewed Pricing",
    occurredAt: t,
    receivedAt: t,
    properties: { plan: "pro" },
    context: {}
  })
  const stored = UserEvent.encode(event)
  return {
    id: EventId.forMessage(`m-${i}`),
    stream: UserEvent.streamOf(userId),
    type: stored.type,
    revision: 0n,
    position: { commit: BigInt(i), prepare: BigInt(i) },
    data: stored.data,
    metadata: null,
    created: t
  }
}

describe("UserActors memory bound", () => {
  it.effect(
    `keeps ${users.toLocaleString("en-US")} distinct users under ${maxLiveUsers} live states and a ${heapCeilingBytes / 2 ** 20} MiB heap`,
    () =>
      Effect.gen(function* () {
        const actors = yield* UserActors.UserActors
        yield* actors.setRules(rules)
        const t0 = Date.UTC(2026, 10, 1)
        let peakLive = 0
        let peakHeap = 0
        for (let from = 0; from < users; from += 4096) {
          const batch = Array.from({ length: Math.min(4096, users - from) }, (_, k) => tracked(from + k, t0 + from + k))
          yield* actors.handle(batch)
          peakLive = Math.max(peakLive, yield* actors.liveUsers)
          if (from % (64 * 4096) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
        }
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
        assert.isAtMost(peakLive, maxLiveUsers)
        assert.isAtMost(peakHeap, heapCeilingBytes)
      }).pipe(
        Effect.provide(
          UserActors.layer({ ...UserActors.defaults, maxLiveUsers, partitions: 4 }).pipe(
            Layer.provide(
              Layer.merge(SqliteEventStore.layerSqlite, SqliteState.layerSqlite).pipe(
                Layer.provide(
                  SqliteDatabase.layer({
                    filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-memory-")), "events.db"),
                    synchronous: "NORMAL"
                  })
                )
              )
            )
          )
        )
      ),
    300_000
  )
})
