import { Schema } from "effect"
import { uuidV5 } from "./EventId.js"
import { codec } from "./Versioned.js"

/**
 * What a user's actor decides, as stored in `trigger-{userId}` (the actor is
 * its only writer). Every event id is derived from what caused it, so a
 * decision made twice (a retry, a replay, a second instance) is the same
 * event and is stored once.
 */
const Decided = {
  firingId: Schema.String,
  userId: Schema.String,
  ruleId: Schema.String,
  ruleVersion: Schema.Number,
  ruleSetVersion: Schema.Number,
  causeEventId: Schema.String,
  /** Event time the decision is about: the cause's time or a timer's due time. */
  at: Schema.Number,
  /** Which sub-conditions held, by which events (bounded in size). */
  explanation: Schema.Unknown
}

export class TriggerFired extends Schema.TaggedClass<TriggerFired>()("TriggerFired", {
  ...Decided,
  priority: Schema.Number,
  journey: Schema.String,
  experiment: Schema.optional(Schema.String),
  variant: Schema.optional(Schema.String)
}) {}

export const SuppressionReason = Schema.Literal("cooldown", "cap", "user_cap", "group", "consent")
export type SuppressionReason = typeof SuppressionReason.Type

export class TriggerSuppressed extends Schema.TaggedClass<TriggerSuppressed>()("TriggerSuppressed", {
  ...Decided,
  reason: SuppressionReason,
  /** In words, e.g. "lost to discount-offer (priority 10) in group promo". */
  detail: Schema.String
}) {}

export class FiringRetracted extends Schema.TaggedClass<FiringRetracted>()("FiringRetracted", {
  firingId: Schema.String,
  userId: Schema.String,
  ruleId: Schema.String,
  /** The late event that shows the firing should not have happened. */
  lateEventId: Schema.String,
  reason: Schema.String
}) {}

export class TimerScheduled extends Schema.TaggedClass<TimerScheduled>()("TimerScheduled", {
  userId: Schema.String,
  ruleId: Schema.String,
  ruleVersion: Schema.Number,
  dueAt: Schema.Number,
  anchorEventId: Schema.String
}) {}

export const TriggerEvent = Schema.Union(TriggerFired, TriggerSuppressed, FiringRetracted, TimerScheduled)
export type TriggerEvent = typeof TriggerEvent.Type

export const streamOf = (userId: string) => `trigger-${userId}`
export const streamPrefix = "trigger-"

const Namespace = "0f7c5a52-3f0e-4d3e-8a55-2d4f1b6c9e10"

/**
 * A firing's id: the same rule version, user and match key (the rules library's `Match.key`,
 * unique per match of a rule) always give the same id, so a retry never fires twice.
 */
export const firingIdOf = (ruleId: string, ruleVersion: number, userId: string, matchKey: string) =>
  uuidV5(Namespace, `firing|${ruleId}|${ruleVersion}|${userId}|${matchKey}`)

/** The stored event id of a decision: one per firing id and kind, one per timer. */
export const eventIdOf = (event: TriggerEvent): string =>
  event._tag === "TimerScheduled"
    ? uuidV5(Namespace, `timer|${event.userId}|${event.ruleId}|${event.ruleVersion}|${event.dueAt}|${event.anchorEventId}`)
    : uuidV5(Namespace, `${event._tag}|${event.firingId}`)

const stored = codec(TriggerEvent, { TriggerFired, TriggerSuppressed, FiringRetracted, TimerScheduled })
export const encode = stored.encode
export const decode = stored.decode
