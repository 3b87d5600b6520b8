import { assert, describe, it } from "@effect/vitest"
import { EventId, TriggerEvent, UserEvent } from "@nudge/domain"
import { EventStore, type RecordedEvent, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { SqliteState } from "@nudge/state"
import { Effect, Layer, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { UserActors } from "../src/index.js"
import { history, rules } from "./history.js"

const minute = 60_000

/**
 * Stores the history, hands it to the actors in chunks as the router would, and returns every user's decisions;
 * `idleMs` passes on the clock between chunks, and the most users live after any chunk is in `peakLive`.
 */
const decide = (maxLiveUsers: number, idleMs = 0) =>
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
    let peakLive = 0
    for (let i = 0; i < recorded.length; i += 5) {
      yield* TestClock.adjust(idleMs)
      yield* actors.handle(recorded.slice(i, i + 5))
      peakLive = Math.max(peakLive, yield* actors.liveUsers)
    }
    const decisions: Record<string, ReadonlyArray<unknown>> = {}
    for (let u = 0; u < 24; u++) {
      const stream = yield* store.read(TriggerEvent.streamOf(`u-${u}`))
      decisions[`u-${u}`] = stream.map((e) => [e.id, e.type, e.data])
    }
    return { decisions, peakLive }
  }).pipe(
    Effect.provide(
      UserActors.layer({ maxLiveUsers, snapshotEvery: 3, partitions: 1, passivateAfterMs: 10 * minute }).pipe(
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
        const count = Object.values(live.decisions).reduce((n, d) => n + d.length, 0)
        assert.isAbove(count, 50)
        assert.isAbove(live.peakLive, 20)
        assert.isAtMost(churned.peakLive, 2)
        assert.deepStrictEqual(churned.decisions, live.decisions)
      }),
    60_000
  )

  it.effect(
    "passivates users idle past the idle time, however few are live, and decides the same",
    () =>
      Effect.gen(function* () {
        const live = yield* decide(1_000, minute)
        // Eleven minutes between chunks: every user but the chunk's own (five events) has gone idle.
        const idle = yield* decide(1_000, 11 * minute)
        assert.isAbove(live.peakLive, 20)
        assert.isAtMost(idle.peakLive, 5)
        assert.deepStrictEqual(idle.decisions, live.decisions)
      }),
    60_000
  )
})
