/**
 * Runs a draft rule set over past events with event time as the clock, through the very
 * functions the live actor calls (`observe`, `timerDue`, `coolingDown`, `capReached`,
 * `recordFiring`): a backtest cannot disagree with live evaluation by construction.
 */
import type { CompiledRuleSet } from "./Compiler.js"
import { capReached, coolingDown, recordFiring } from "./Cooldown.js"
import type { Event, Match, Outcome } from "./Evaluation.js"
import { observe, timerDue } from "./Evaluation.js"
import type { RulesState } from "./RulesState.js"
import { make } from "./RulesState.js"
import type { TimerRequest } from "./Timer.js"

export interface HistoricalEvent extends Event {
  readonly userId: string
}

export interface Firing extends Match {
  readonly userId: string
}

export interface Suppressed extends Firing {
  readonly reason: "cooldown" | "cap"
}

export interface Result {
  readonly firings: ReadonlyArray<Firing>
  readonly suppressed: ReadonlyArray<Suppressed>
}

export interface Options {
  /** Timers due up to this time (inclusive) still fire after the last event; default: all of them. */
  readonly until?: number
}

const byUser = (events: Iterable<HistoricalEvent>): Map<string, Array<HistoricalEvent>> => {
  const users = new Map<string, Array<HistoricalEvent>>()
  for (const event of events) {
    const list = users.get(event.userId)
    if (list === undefined) users.set(event.userId, [event])
    else list.push(event)
  }
  // Stable: events at the same time keep their input order.
  for (const list of users.values()) list.sort((a, b) => a.occurredAt - b.occurredAt)
  return users
}

const earliestDue = (state: RulesState, before: number): TimerRequest | undefined => {
  let earliest: TimerRequest | undefined
  for (const timer of state.timers) {
    if (timer.dueAt < before && (earliest === undefined || timer.dueAt < earliest.dueAt)) earliest = timer
  }
  return earliest
}

export const backtest = (compiled: CompiledRuleSet, events: Iterable<HistoricalEvent>, options: Options = {}): Result => {
  const firings: Array<Firing> = []
  const suppressed: Array<Suppressed> = []
  for (const [userId, history] of byUser(events)) {
    let state = make()
    const resolve = (outcome: Outcome) => {
      state = outcome.state
      for (const match of outcome.matches) {
        const rule = compiled.byId.get(match.ruleId)!
        const reason = coolingDown(rule, state, match.at) ? "cooldown" : capReached(rule, state, match.at) ? "cap" : undefined
        if (reason !== undefined) suppressed.push({ ...match, userId, reason })
        else {
          state = recordFiring(state, rule, match.at)
          firings.push({ ...match, userId })
        }
      }
    }
    // Events before timers due at the same time: the deadline sees everything that happened by then.
    const fireTimersBefore = (before: number) => {
      for (let timer = earliestDue(state, before); timer !== undefined; timer = earliestDue(state, before)) {
        resolve(timerDue(compiled, state, timer))
      }
    }
    for (const event of history) {
      fireTimersBefore(event.occurredAt)
      resolve(observe(compiled, state, event))
    }
    fireTimersBefore(options.until === undefined ? Infinity : options.until + 1)
  }
  return { firings, suppressed }
}
