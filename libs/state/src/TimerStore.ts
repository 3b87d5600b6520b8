import { Context, type Effect } from "effect"
import type { StateUnavailable } from "./StateStore.js"

export interface ScheduledTimer {
  /** Unique per timer; scheduling the same key again replaces it. */
  readonly key: string
  readonly userId: string
  readonly dueAt: number
  readonly payload: string
}

/**
 * The index of pending timers by due time. The durable record is the
 * `TimerScheduled` event; this index only says when to look, so a timer that
 * fires twice or late is harmless (the actor ignores a timer it no longer
 * has), and one that never made it here is re-registered by its actor.
 */
export class TimerStore extends Context.Tag("@nudge/state/TimerStore")<
  TimerStore,
  {
    readonly schedule: (timers: ReadonlyArray<ScheduledTimer>) => Effect.Effect<void, StateUnavailable>
    /** Timers due at or before `now`, earliest first. */
    readonly due: (now: number, limit: number) => Effect.Effect<ReadonlyArray<ScheduledTimer>, StateUnavailable>
    readonly remove: (keys: ReadonlyArray<string>) => Effect.Effect<void, StateUnavailable>
  }
>() {}
