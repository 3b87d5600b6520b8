import { assert, describe, it } from "@effect/vitest"
import { TriggerEvent } from "@nudge/domain"
import { EventStore } from "@nudge/event-store"
import { StateStore, StateUnavailable, TimerStore } from "@nudge/state"
import { Context, Duration, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import { Router, UserActors } from "../src/index.js"
import { history, rulesYaml } from "./history.js"
import { append, checkpointReaches, publish, sqlite, stores } from "./routerHarness.js"

const users = Array.from({ length: 24 }, (_, u) => `u-${u}`)

const decisions = Effect.gen(function* () {
  const store = yield* EventStore
  const all: Record<string, ReadonlyArray<readonly [string, string, unknown]>> = {}
  for (const u of users) all[u] = (yield* store.read(TriggerEvent.streamOf(u))).map((e) => [e.id, e.type, e.data] as const)
  return all
})

/** The router over the history in two live batches; `failing` makes its writes fail once the first batch is decided. */
const run = (failing: boolean) =>
  Effect.gen(function* () {
    const state = yield* StateStore
    yield* publish(1, rulesYaml)
    const events = history()
    const half = Math.floor(events.length / 2)
    let armed = false
    const flaky = StateStore.of({
      ...state,
      set: (entries) => (armed ? Effect.fail(new StateUnavailable({ reason: "injected" })) : state.set(entries))
    })
    const first = yield* Effect.forkScoped(Router.run.pipe(Effect.provideService(StateStore, flaky)))
    const firstHalf = yield* append(events.slice(0, half))
    yield* checkpointReaches(firstHalf)
    armed = failing
    const secondHalf = yield* append(events.slice(half))
    if (failing) {
      // Nothing follows the second batch: only a prompt stop ends the first router.
      const stopped = yield* Fiber.await(first).pipe(Effect.timeout(Duration.seconds(10)))
      assert.isTrue(Exit.isFailure(stopped))
      assert.include(String(Exit.isFailure(stopped) ? stopped.cause : ""), "injected")
      assert.strictEqual((yield* state.get([Router.checkpointKey])).get(Router.checkpointKey), firstHalf)
      yield* Effect.forkScoped(Router.run)
    }
    yield* checkpointReaches(secondHalf)
    const decided = yield* decisions
    // Explain finds a firing through its index entry, even one whose first write failed.
    const firingIds = Object.values(decided).flatMap((list) =>
      list.flatMap(([, type, data]) => (type.startsWith("TriggerFired.") || type.startsWith("TriggerSuppressed.") ? [(data as { firingId: string }).firingId] : []))
    )
    const index = yield* state.get(firingIds.map(UserActors.firingKey))
    return { decided, firings: firingIds.length, unindexed: firingIds.filter((id) => !index.has(UserActors.firingKey(id))) }
  }).pipe(Effect.scoped, Effect.provide(stores()))

/** The history in small commits with a pause after each, so the router takes several chunks; the decisions stored. */
const inSmallCommits = Effect.gen(function* () {
  yield* publish(1, rulesYaml)
  yield* Effect.forkScoped(Router.run)
  const events = history()
  let last = ""
  for (let i = 0; i < events.length; i += 28) {
    last = yield* append(events.slice(i, i + 28))
    yield* Effect.sleep("10 millis")
  }
  yield* checkpointReaches(last)
  return yield* decisions
})

/**
 * The embedded stores with every state write 100 ms slow, counting the router's trigger appends and, at most, how
 * many of them were made ahead of its completed writes.
 */
const slowWrites = () => {
  const counts = { commits: 0, written: 0, ahead: 0 }
  const base = Layer.effectContext(
    Effect.gen(function* () {
      const store = yield* EventStore
      const state = yield* StateStore
      const timers = yield* TimerStore
      return Context.make(
        EventStore,
        EventStore.of({
          ...store,
          appendMany: (requests) =>
            Effect.sync(() => {
              if (!requests.some((r) => r.stream.startsWith(TriggerEvent.streamPrefix))) return
              counts.commits++
              counts.ahead = Math.max(counts.ahead, counts.commits - counts.written)
            }).pipe(Effect.zipRight(store.appendMany(requests)))
        })
      ).pipe(
        Context.add(
          StateStore,
          StateStore.of({
            ...state,
            set: (entries) =>
              Effect.sleep("100 millis").pipe(
                Effect.zipRight(state.set(entries)),
                Effect.tap(() => Effect.sync(() => void counts.written++))
              )
          })
        ),
        Context.add(TimerStore, timers)
      )
    })
  ).pipe(Layer.provide(sqlite()))
  return { counts, layer: stores({}, base) }
}

describe("Router", () => {
  // Live clock: the router paces itself with real sleeps.
  it.live(
    "keeps at most two chunks' writes waiting when writes are slower than deciding, and decides the same",
    () =>
      Effect.gen(function* () {
        const reference = yield* run(false)
        const { counts, layer } = slowWrites()
        const decided = yield* inSmallCommits.pipe(Effect.scoped, Effect.provide(layer))
        assert.deepStrictEqual(decided, reference.decided)
        assert.isAbove(counts.commits, 3)
        assert.isAtMost(counts.ahead, 2)
      }),
    60_000
  )

  it.live(
    "stops at once when a chunk's derived write fails, keeps the checkpoint before it, and a restart loses, doubles and leaves unindexed no decision",
    () =>
      Effect.gen(function* () {
        const reference = yield* run(false)
        const afterFailure = yield* run(true)
        assert.isAbove(reference.firings, 50)
        assert.deepStrictEqual(afterFailure.decided, reference.decided)
        assert.deepStrictEqual([reference.unindexed, afterFailure.unindexed], [[], []])
      }),
    60_000
  )

  it.live(
    "passivates idle users while the log is quiet: each gets a snapshot that holds its last input",
    () =>
      Effect.gen(function* () {
        const actors = yield* UserActors.UserActors
        const state = yield* StateStore
        yield* publish(1, rulesYaml)
        yield* Effect.forkScoped(Router.run)
        const events = history().slice(0, 40)
        yield* checkpointReaches(yield* append(events))
        const touched = [...new Set(events.map((e) => e.userId))]
        assert.isAbove(yield* actors.liveUsers, 3)
        yield* actors.liveUsers.pipe(
          Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("20 millis") }),
          Effect.timeout(Duration.seconds(5))
        )
        // The sweep's snapshots are written while the router waits for more: give the write a moment.
        const snapshots = yield* state.get(touched.map(UserActors.snapshotKey)).pipe(
          Effect.filterOrFail((found) => found.size === touched.length),
          Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(500))))
        )
        const lastRevision = (userId: string) => events.filter((e) => e.userId === userId).length - 1
        assert.deepStrictEqual(
          touched.map((u) => (JSON.parse(snapshots.get(UserActors.snapshotKey(u)) ?? "{}") as { userRevision?: number }).userRevision),
          touched.map(lastRevision)
        )
      }).pipe(Effect.scoped, Effect.provide(stores({ maxLiveUsers: 1_000, passivateAfterMs: 200 }))),
    30_000
  )
})
