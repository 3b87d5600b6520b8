import { EventId, UserEvent } from "@nudge/domain"
import { EventStore } from "@nudge/event-store"
import { TimerStore } from "@nudge/state"
import { Effect, Schedule } from "effect"

interface Payload {
  readonly ruleId: string
  readonly ruleVersion: number
  readonly dueAt: number
  readonly anchorEventId: string
}

/**
 * Claims due timers and appends a `TimerDue` to the user's stream instead of
 * acting on them, so the actor sees the deadline in order with the user's
 * own events. The event id comes from the timer, so two claimers (or a
 * retry after a crash) store it once.
 */
export const claimDue = (limit = 512) =>
  Effect.gen(function* () {
    const timers = yield* TimerStore
    const store = yield* EventStore
    const due = yield* timers.due(Date.now(), limit)
    if (due.length === 0) return 0
    // A tombstoned (erased) user's timer has nowhere to go: its slot fails and it is dropped with the rest.
    yield* store.appendMany(
      due.map((t) => {
        const payload = JSON.parse(t.payload) as Payload
        const event = new UserEvent.TimerDue({ userId: t.userId, ...payload }, true)
        return {
          stream: UserEvent.streamOf(t.userId),
          events: [{ id: EventId.forMessage(`timer-due|${t.key}`), ...UserEvent.encode(event) }],
          expected: "any" as const
        }
      })
    )
    yield* timers.remove(due.map((t) => t.key))
    return due.length
  })

/** Runs for the life of the engine: claims as long as timers are due, then looks again every `intervalMs`. */
export const run = (intervalMs = 100) =>
  claimDue().pipe(
    Effect.repeat({ while: (n) => n > 0 }),
    Effect.catchAll((e) => Effect.logWarning("timer claim failed; retrying", e)),
    Effect.repeat(Schedule.spaced(intervalMs)),
    Effect.asVoid
  )
