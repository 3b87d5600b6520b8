import { assert, describe, it } from "@effect/vitest"
import { EventStore, Position } from "@nudge/event-store"
import { TimerStore } from "@nudge/state"
import { Effect } from "effect"
import { Router, TimerService } from "../src/index.js"
import { append, checkpointReaches, firings, publish, stores, tracked } from "./routerHarness.js"

/** An absence deadline ten minutes after Viewed Pricing, in one journey or another. */
const deadline = (version: number, journey: string) => `rules:
  - { id: no-buy, version: ${version}, name: n, priority: 3, cooldown: 0s, action: { journey: ${journey} }, when: { absent: { name: Completed Purchase, within: 10m, after: { name: Viewed Pricing } } } }`

const event = (name: string, at: number) => tracked("u", name, at)

/** The timers indexed now (due or not), then claims the due ones and waits for the router to decide them. */
const claimAll = Effect.gen(function* () {
  const indexed = yield* Effect.flatMap(TimerStore, (timers) => timers.due(Number.MAX_SAFE_INTEGER, 10))
  const claimed = yield* TimerService.claimDue()
  yield* checkpointReaches(Position.format(yield* Effect.flatMap(EventStore, (store) => store.head)))
  return { indexed: indexed.length, claimed }
})

describe("Router and timers", () => {
  it.live(
    "a rule's new version that keeps a pending deadline's time keeps its timer, and the deadline fires once",
    () =>
      Effect.gen(function* () {
        // An hour ago, so the deadline ten minutes after it is already due when claimed.
        const viewed = Date.now() - 3_600_000
        yield* publish(1, deadline(1, "a"))
        yield* Effect.forkScoped(Router.run)
        yield* checkpointReaches(yield* append([event("Viewed Pricing", viewed)]))
        // Only the journey changes; a later view re-anchors the deadline under the new version at the same time.
        yield* publish(2, deadline(2, "b"))
        yield* checkpointReaches(yield* append([event("Viewed Pricing", viewed)]))
        assert.deepStrictEqual(yield* claimAll, { indexed: 1, claimed: 1 })
        assert.deepStrictEqual(yield* firings("u"), [["no-buy", 2]])
      }).pipe(Effect.scoped, Effect.provide(stores())),
    30_000
  )

})
