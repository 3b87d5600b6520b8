import { Schema } from "effect"
import { codec } from "./Versioned.js"

/** What producers tell Nudge about a user, and the timers due for them, as stored in `user-{userId}`. */
const Common = {
  messageId: Schema.String,
  userId: Schema.String,
  /** Event time in epoch ms, corrected for the producer's clock skew. */
  occurredAt: Schema.Number,
  /** When the engine accepted it, epoch ms. */
  receivedAt: Schema.Number
}

export class Tracked extends Schema.TaggedClass<Tracked>()("Tracked", {
  ...Common,
  name: Schema.String,
  properties: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  context: Schema.Record({ key: Schema.String, value: Schema.String })
}) {}

export class Identified extends Schema.TaggedClass<Identified>()("Identified", {
  ...Common,
  traits: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

export class ConsentChanged extends Schema.TaggedClass<ConsentChanged>()("ConsentChanged", {
  ...Common,
  category: Schema.String,
  granted: Schema.Boolean
}) {}

/** Appended by whoever claims a due timer, so the actor sees it in order with the user's events. */
export class TimerDue extends Schema.TaggedClass<TimerDue>()("TimerDue", {
  userId: Schema.String,
  ruleId: Schema.String,
  ruleVersion: Schema.Number,
  dueAt: Schema.Number,
  anchorEventId: Schema.String
}) {}

export const UserEvent = Schema.Union(Tracked, Identified, ConsentChanged, TimerDue)

/** The user events producers send (everything but the engine's own timers). */
export type ProducerEvent = Tracked | Identified | ConsentChanged
export type UserEvent = typeof UserEvent.Type

export const streamOf = (userId: string) => `user-${userId}`
export const streamPrefix = "user-"

const stored = codec(UserEvent, { Tracked, Identified, ConsentChanged, TimerDue })

export const encode = stored.encode
/** Reads any stored version of a user event; fails on types this build does not know. */
export const decode = stored.decode
