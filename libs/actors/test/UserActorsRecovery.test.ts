import { assert, describe, it } from "@effect/vitest"
import { EventId, TriggerEvent, UserEvent } from "@nudge/domain"
import { EventStore } from "@nudge/event-store"
import { RuleSet } from "@nudge/rules"
import { StateStore, TimerStore } from "@nudge/state"
import { Context, Effect, Either, Fiber, Layer } from "effect"
import { ActiveRules, UserActors } from "../src/index.js"
import { sqlite, tracked } from "./routerHarness.js"

const buyFires = ActiveRules.make(
  1,
  Either.getOrThrow(
    RuleSet.parseRuleSet(
      `rules:
  - { id: buy, version: 1, name: b, priority: 1, cooldown: 0s, action: { journey: j }, when: { event: { name: Buy, within: 1m } } }`,
      "yaml"
    )
  )
)

/** An actors instance of its own (as a second engine would have), one live user at most. */
const instance = Layer.build(UserActors.layer({ maxLiveUsers: 1, snapshotEvery: 200, partitions: 1, passivateAfterMs: 600_000 })).pipe(
  Effect.map((context) => Context.get(context, UserActors.UserActors)),
  Effect.tap((actors) => actors.setRules(buyFires))
)

let hours = 0
/** Stores a Buy of `userId`, two hours after the last, and gives it back as recorded. */
const buy = (userId: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const event = tracked(userId, "Buy", Date.UTC(2026, 0, 1) + 7_200_000 * hours++)
    yield* store.append(UserEvent.streamOf(userId), [{ id: EventId.forMessage(event.messageId), ...UserEvent.encode(event) }], "any")
    return (yield* store.read(UserEvent.streamOf(userId), { direction: "backwards", maxCount: 1 }))[0]!
  })

const write = (derived: UserActors.Derived) =>
  Effect.zipRight(
    Effect.flatMap(TimerStore, (timers) => timers.remove(derived.cancelledTimers)),
    Effect.flatMap(StateStore, (state) => state.set(derived.state))
  )

describe("UserActors recovery", () => {
  it.scoped(
    "a user recovered after a lost append while later batches are in flight is not passivated ahead of them, and loses no decision",
    () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const first = yield* buy("u")
        const second = yield* buy("u")
        // Another instance (before a rebalance) decided and stored u's first two Buys.
        yield* (yield* instance).handle([first, second])
        const actors = yield* instance
        // Pipelined as the router does: a batch is decided while the one before it commits, completed before its own.
        const n = yield* actors.begin([first])
        const committingN = yield* Effect.fork(n.commit)
        const next = yield* actors.begin([second])
        // N's append fails (the trigger stream is not new): u is recovered from the log, and `next`'s work for u is void.
        yield* write(yield* Effect.flatten(Fiber.join(committingN)))
        const committingNext = yield* Effect.fork(next.commit)
        const third = yield* buy("u")
        // With v, more users than the bound: u is evicted as soon as it has no batch in flight.
        const after = yield* actors.begin([third, yield* buy("v")])
        yield* write(yield* Effect.flatten(Fiber.join(committingNext)))
        yield* write(yield* (yield* after.commit))
        const fourth = yield* buy("u")
        yield* actors.handle([fourth])
        const fired = (yield* store.read(TriggerEvent.streamOf("u")))
          .filter((e) => e.type.startsWith("TriggerFired."))
          .map((e) => (e.data as { readonly causeEventId: string }).causeEventId)
        assert.deepStrictEqual(fired, [first.id, second.id, third.id, fourth.id])
      }).pipe(Effect.provide(sqlite())),
    30_000
  )
})
