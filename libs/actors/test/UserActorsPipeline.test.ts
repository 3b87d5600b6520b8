import { assert, describe, it } from "@effect/vitest"
import { EventId, TriggerEvent, UserEvent } from "@nudge/domain"
import { EventStore, type RecordedEvent, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { SqliteState, StateStore, TimerStore } from "@nudge/state"
import { Context, Effect, Fiber, Layer, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { UserActors } from "../src/index.js"
import { history, rules } from "./history.js"

const batchSize = 20
const options: UserActors.ActorOptions = { maxLiveUsers: 6, snapshotEvery: 3, partitions: 2, passivateAfterMs: 600_000 }

const actorsInstance = Layer.build(UserActors.layer(options)).pipe(
  Effect.map((context) => Context.get(context, UserActors.UserActors)),
  Effect.tap((actors) => actors.setRules(rules))
)

const storeHistory = Effect.gen(function* () {
  const store = yield* EventStore
  const recorded: Array<RecordedEvent> = []
  for (const event of history()) {
    const stream = UserEvent.streamOf(event.userId)
    yield* store.append(stream, [{ id: EventId.forMessage(event.messageId), ...UserEvent.encode(event) }], "any")
    recorded.push((yield* store.read(stream, { direction: "backwards", maxCount: 1 }))[0]!)
  }
  return recorded
})

const batches = (recorded: ReadonlyArray<RecordedEvent>) =>
  Array.from({ length: Math.ceil(recorded.length / batchSize) }, (_, i) => recorded.slice(i * batchSize, (i + 1) * batchSize))

const writeDerived = (derived: UserActors.Derived) =>
  Effect.gen(function* () {
    yield* (yield* TimerStore).remove(derived.cancelledTimers)
    yield* (yield* StateStore).set(derived.state)
  })

/** Each batch decided while the one before it is appended, and completed before its own commit, as the router does. */
const pipelined = (actors: UserActors.UserActors["Type"], all: ReadonlyArray<ReadonlyArray<RecordedEvent>>) =>
  Effect.gen(function* () {
    let committing: Fiber.Fiber<Effect.Effect<UserActors.Derived, UserActors.ActorError>, UserActors.ActorError> | undefined
    const settle = Effect.gen(function* () {
      if (committing !== undefined) yield* writeDerived(yield* Effect.flatten(Fiber.join(committing)))
    })
    for (const events of all) {
      const batch = yield* actors.begin(events)
      yield* settle
      committing = yield* Effect.fork(batch.commit)
    }
    yield* settle
  })

const decisions = Effect.gen(function* () {
  const store = yield* EventStore
  const all: Record<string, ReadonlyArray<unknown>> = {}
  for (let u = 0; u < 24; u++) all[`u-${u}`] = (yield* store.read(TriggerEvent.streamOf(`u-${u}`))).map((e) => [e.id, e.type, e.data])
  return all
})

const onFreshStore = <A, E>(effect: Effect.Effect<A, E, EventStore | StateStore | TimerStore | Scope.Scope>) =>
  effect.pipe(
    Effect.provide(
      Layer.merge(SqliteEventStore.layerSqlite, SqliteState.layerSqlite).pipe(
        Layer.provide(SqliteDatabase.layer({ filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-pipeline-")), "events.db") }))
      )
    ),
    Effect.scoped
  )

describe("UserActors batches in flight", () => {
  it.effect(
    "store the same decisions when the next batch is decided during a commit, also when another instance got ahead",
    () =>
      Effect.gen(function* () {
        const expected = yield* onFreshStore(
          Effect.gen(function* () {
            const all = batches(yield* storeHistory)
            const actors = yield* actorsInstance
            for (const events of all) yield* actors.handle(events)
            return yield* decisions
          })
        )
        const inFlight = yield* onFreshStore(
          Effect.gen(function* () {
            yield* pipelined(yield* actorsInstance, batches(yield* storeHistory))
            return yield* decisions
          })
        )
        // A second instance decides the first batches first (a rebalance): the pipelined one finds those trigger
        // streams ahead of the states it decided on, rebuilds those users from the log and drops what it decided
        // for them in the batches already in hand.
        const raced = yield* onFreshStore(
          Effect.gen(function* () {
            const all = batches(yield* storeHistory)
            const ahead = yield* actorsInstance
            for (const events of all.slice(0, 4)) yield* ahead.handle(events)
            yield* pipelined(yield* actorsInstance, all)
            return yield* decisions
          })
        )
        assert.isAbove(Object.values(expected).flat().length, 50)
        assert.deepStrictEqual(inFlight, expected)
        assert.deepStrictEqual(raced, expected)
      }),
    60_000
  )
})
