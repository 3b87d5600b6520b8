import { assert, describe, it } from "@effect/vitest"
import { EventId, RuleSetPublished, UserEvent } from "@nudge/domain"
import { EventStore, Position } from "@nudge/event-store"
import { StateStore, StateUnavailable } from "@nudge/state"
import { Effect, Exit, Fiber, type Layer, type Scope } from "effect"
import { Router } from "../src/index.js"
import { append, checkpointReaches, firings, publish, stores, tracked } from "./routerHarness.js"

/** Fires on every Buy; the next version retires it. */
const buyFires = `rules:
  - { id: buy, version: 1, name: b, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: Buy, within: 1h } } }`
const buyRetired = `rules:
  - { id: other, version: 1, name: o, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: Never, within: 1h } } }`

const event = (name: string, at: number) => tracked("u", name, at)

const t0 = Date.UTC(2026, 0, 1)

/** A live test over the embedded stores and small actor bounds, scoped to it. */
const routed = (name: string, body: Effect.Effect<void, unknown, Layer.Layer.Success<ReturnType<typeof stores>> | Scope.Scope>) =>
  it.live(name, () => body.pipe(Effect.scoped, Effect.provide(stores())), 30_000)

describe("Router and rule sets", () => {
  routed(
    "a restarted router decides an event stored after a new rule set with that rule set, though the user's activation reads past it",
    Effect.gen(function* () {
      yield* publish(1, buyFires)
      const first = yield* Effect.forkScoped(Router.run)
      yield* checkpointReaches(yield* append([event("Visit", t0)]))
      // A crash: the user's state is neither snapshotted nor kept for the next run.
      yield* Fiber.interrupt(first)
      yield* append([event("Visit", t0 + 1_000)])
      yield* publish(2, buyRetired)
      const last = yield* append([event("Buy", t0 + 2_000)])
      yield* Effect.forkScoped(Router.run)
      yield* checkpointReaches(last)
      assert.deepStrictEqual(yield* firings("u"), [])
    })
  )

  routed(
    "a router restarted after a failed write decides under no rules when none was published before its checkpoint, not under those its last run reached",
    Effect.gen(function* () {
      const store = yield* EventStore
      const state = yield* StateStore
      const buy = event("Buy", t0)
      // One commit, so one chunk: the Buy, then the rule set that would fire on it had it come first.
      yield* store.appendMany([
        { stream: UserEvent.streamOf("u"), events: [{ id: EventId.forMessage(buy.messageId), ...UserEvent.encode(buy) }], expected: "any" },
        {
          stream: RuleSetPublished.stream,
          events: [
            {
              id: EventId.forMessage("rules-1"),
              ...RuleSetPublished.encode(new RuleSetPublished.RuleSetPublished({ version: 1, format: "yaml", text: buyFires, publishedAt: 0 }))
            }
          ],
          expected: "any"
        }
      ])
      const failing = StateStore.of({ ...state, set: () => Effect.fail(new StateUnavailable({ reason: "injected" })) })
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Router.run.pipe(Effect.provideService(StateStore, failing)))))
      // What the engine's supervisor does: run it again on the same actors.
      yield* Effect.forkScoped(Router.run)
      yield* checkpointReaches(Position.format(yield* store.head))
      assert.deepStrictEqual(yield* firings("u"), [])
    })
  )

  routed(
    "a stored rule set that no longer parses (validation tightened since it was published) is passed over: the router goes on under the one before",
    Effect.gen(function* () {
      yield* publish(1, buyFires)
      yield* publish(2, "rules: [{ id: unfinished }]")
      yield* Effect.forkScoped(Router.run)
      yield* checkpointReaches(yield* append([event("Buy", t0)]))
      assert.deepStrictEqual(yield* firings("u"), [["buy", 1]])
    })
  )
})
