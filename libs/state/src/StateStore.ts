import { Context, type Effect, Schema } from "effect"

export class StateUnavailable extends Schema.TaggedError<StateUnavailable>()("StateUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `state store unavailable: ${this.reason}`
  }
}

/**
 * Derived state that can always be rebuilt from the log (actor snapshots,
 * subscription checkpoints, the firing index): plain keys and text values.
 */
export class StateStore extends Context.Tag("@nudge/state/StateStore")<
  StateStore,
  {
    readonly get: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, string>, StateUnavailable>
    readonly set: (entries: ReadonlyArray<readonly [string, string]>) => Effect.Effect<void, StateUnavailable>
    readonly remove: (keys: ReadonlyArray<string>) => Effect.Effect<void, StateUnavailable>
  }
>() {}
