import { TriggerEvent, type UserEvent, Versioned } from "@nudge/domain"
import { Cooldown, Evaluation, type Timer } from "@nudge/rules"
import type { ActiveRules } from "./ActiveRules.js"
import { resolve } from "./Resolver.js"
import type { UserState } from "./UserState.js"

export interface Input {
  readonly event: UserEvent.UserEvent
  readonly eventId: string
  readonly revision: number
}

export interface Decided {
  readonly state: UserState
  readonly decisions: ReadonlyArray<TriggerEvent.TriggerEvent>
  /** Timers no longer needed: their index entries can go. */
  readonly cancelled: ReadonlyArray<Timer.TimerRequest>
}

/** How long a firing stays open to retraction: as long as late events are still decided exactly. */
const retractableMs = 6 * 60 * 60 * 1000
const maxRecent = 64
const none: ReadonlyArray<never> = []

const scheduled = (userId: string, timers: ReadonlyArray<Timer.TimerRequest>) =>
  timers.map((t) => Versioned.trusted(TriggerEvent.TimerScheduled, { _tag: "TimerScheduled", userId, ...t }))

/**
 * A late event (it happened before the latest event time seen) can show that
 * an earlier firing should not have happened: the purchase made inside the
 * window that arrived after the deadline. Each such firing is retracted once,
 * and no longer counts for cooldowns and caps.
 */
const retractions = (
  rules: ActiveRules,
  state: UserState,
  late: { readonly id: string; readonly name: string; readonly occurredAt: number }
) => {
  const retracted: Array<TriggerEvent.FiringRetracted> = []
  let rulesState = state.rules
  let firedAt = state.firedAt
  const kept = state.recent.filter((f) => {
    if (f.at < late.occurredAt || Evaluation.recheck(rules.compiled, state.rules, f)) return true
    rulesState = Cooldown.forgetFiring(rulesState, f.ruleId, f.at)
    firedAt = Cooldown.withoutOne(firedAt, f.at)
    retracted.push(
      new TriggerEvent.FiringRetracted(
        {
          firingId: f.firingId,
          userId: state.userId,
          ruleId: f.ruleId,
          lateEventId: late.id,
          reason: `late "${late.name}" at ${new Date(late.occurredAt).toISOString()} falls inside the rule's window`
        },
        true
      )
    )
    return false
  })
  return { state: { ...state, rules: rulesState, firedAt, recent: kept }, retracted }
}

const afterOutcome = (rules: ActiveRules, state: UserState, outcome: Evaluation.Outcome): Decided => {
  // Most events match nothing: they only move the state on.
  if (outcome.matches.length === 0 && outcome.timers.length === 0) {
    return { state: { ...state, rules: outcome.state }, decisions: none, cancelled: outcome.cancelled }
  }
  const resolved = resolve(rules, { ...state, rules: outcome.state }, outcome.matches)
  return {
    state: resolved.state,
    decisions: [...resolved.decisions, ...scheduled(state.userId, outcome.timers)],
    cancelled: outcome.cancelled
  }
}

const forget = (state: UserState): UserState => {
  const horizon = state.rules.clock - retractableMs
  const recent = state.recent.filter((f) => f.at >= horizon)
  return recent.length === state.recent.length && recent.length <= maxRecent
    ? state
    : { ...state, recent: recent.slice(-maxRecent) }
}

/**
 * The pure heart of a user actor: one input from `user-{userId}`, in order,
 * gives the next state and the decisions to append to `trigger-{userId}`.
 * The state passed in is owned by the call (the rules state is updated in
 * place); keep only the returned one.
 */
export const decide = (rules: ActiveRules, state: UserState, input: Input): Decided => {
  const next = { ...state, userRevision: input.revision }
  const event = input.event
  switch (event._tag) {
    case "Tracked": {
      // At the latest time seen counts too: a purchase at the very deadline is inside the window the firing judged.
      const late = event.occurredAt <= state.rules.clock
      const outcome = Evaluation.observe(rules.compiled, next.rules, {
        id: input.eventId,
        name: event.name,
        occurredAt: event.occurredAt,
        properties: event.properties
      })
      const decided = afterOutcome(rules, next, outcome)
      if (!late) return { ...decided, state: forget(decided.state) }
      const { state: corrected, retracted } = retractions(rules, decided.state, { id: input.eventId, name: event.name, occurredAt: event.occurredAt })
      return { ...decided, state: forget(corrected), decisions: [...decided.decisions, ...retracted] }
    }
    case "TimerDue": {
      const outcome = Evaluation.timerDue(rules.compiled, next.rules, event)
      const decided = afterOutcome(rules, next, outcome)
      return { ...decided, state: forget(decided.state) }
    }
    case "Identified": {
      const outcome = Evaluation.identify(rules.compiled, next.rules, { id: input.eventId, occurredAt: event.occurredAt, traits: event.traits })
      const decided = afterOutcome(rules, next, outcome)
      return { ...decided, state: forget(decided.state) }
    }
    case "ConsentChanged":
      return { state: { ...next, consent: { ...next.consent, [event.category]: event.granted } }, decisions: none, cancelled: none }
  }
}
