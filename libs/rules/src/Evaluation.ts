/**
 * Deciding rules for one user: fold an event (or a due timer) into the state and report the
 * rules that became true. Firing is edge-triggered: a rule matches when its condition
 * becomes true, not again while it stays true. Cooldowns, caps, groups and consent are
 * the resolver's; a match is a candidate.
 */
import type { CompiledRule, CompiledRuleSet } from "./Compiler.js"
import { rulesFor } from "./Compiler.js"
import type { Explanation } from "./Explanation.js"
import { Trace } from "./Explanation.js"
import type { Action, Cap } from "./RuleSet.js"
import type { RulesState } from "./RulesState.js"
import { foldFacts, identify as mergeTraits, never, notHolding, toStored } from "./RulesState.js"
import type { TimerRequest } from "./Timer.js"
import type { Columns } from "./internal/columns.js"
import { noEvents } from "./internal/columns.js"
import type { View } from "./internal/view.js"
import { removeTimer, viewOf } from "./internal/view.js"
import type { Wake } from "./internal/wake.js"
import { wakes } from "./internal/wake.js"

export interface Event {
  readonly id: string
  readonly name: string
  readonly occurredAt: number
  readonly properties: Readonly<Record<string, unknown>>
}

export interface Match {
  readonly ruleId: string
  readonly ruleVersion: number
  readonly priority: number
  readonly group: string | undefined
  readonly action: Action
  readonly cooldownMs: number
  readonly caps: ReadonlyArray<Cap>
  readonly consent: string | undefined
  /** Event time of the decision: the event's time, or a timer's due time. */
  readonly at: number
  /** The event decided, or for a timer the event whose evaluation asked for it. */
  readonly causeEventId: string
  /**
   * Unique among the matches of this rule for this user, and the same on every replay: the
   * event's id, or for a timer its anchor and due time. One event causes at most one match
   * of a rule, while one anchor can ask for several timers in turn (a rule that falls and
   * rises again by time alone), so the cause alone does not identify a match.
   */
  readonly key: string
  readonly explanation: Explanation
}

export interface Outcome {
  readonly state: RulesState
  readonly matches: ReadonlyArray<Match>
  /** Timers to schedule; each replaces any earlier timer of the same rule. */
  readonly timers: ReadonlyArray<TimerRequest>
  /** Earlier timers no longer needed (cancelled or replaced); handing them back is harmless. */
  readonly cancelled: ReadonlyArray<TimerRequest>
}

const none: Array<never> = []

/** Outputs of one call; the lists are allocated on first use since most events produce nothing. */
class Collector {
  matches: Array<Match> = none
  timers: Array<TimerRequest> = none
  cancelled: Array<TimerRequest> = none

  match(match: Match) {
    if (this.matches === none) this.matches = []
    this.matches.push(match)
  }

  schedule(timer: TimerRequest) {
    if (this.timers === none) this.timers = []
    this.timers.push(timer)
  }

  cancel(timer: TimerRequest) {
    if (this.cancelled === none) this.cancelled = []
    this.cancelled.push(timer)
  }

  outcome(state: RulesState): Outcome {
    return { state, matches: this.matches, timers: this.timers, cancelled: this.cancelled }
  }
}

interface Cause {
  readonly eventId: string
  readonly key: string
}

const match = (rule: CompiledRule, view: View, at: number, cause: Cause): Match => {
  const trace = new Trace()
  rule.condition.test(view, at, trace)
  return {
    ruleId: rule.id,
    ruleVersion: rule.version,
    priority: rule.priority,
    group: rule.group,
    action: rule.action,
    cooldownMs: rule.cooldownMs,
    caps: rule.caps,
    consent: rule.consent,
    at,
    causeEventId: cause.eventId,
    key: cause.key,
    explanation: trace.explain(at)
  }
}

const schedule = (rule: CompiledRule, view: View, dueAt: number, anchorEventId: string, out: Collector) => {
  if (view.pending(rule.slot, dueAt, rule.version)) return
  const pending = view.timer(rule.slot)
  if (pending !== undefined) out.cancel(pending)
  if (dueAt < never) {
    const timer: TimerRequest = { ruleId: rule.id, ruleVersion: rule.version, dueAt, anchorEventId }
    view.setTimer(rule.slot, timer)
    out.schedule(timer)
  } else if (pending !== undefined) view.clearTimer(rule.slot)
}

/**
 * Decides one rule at `at`. It matches when true now and not continuously true since its
 * last decision (edge memory holds the time it would stop being true). Then it remembers
 * when the condition will stop being true and, if time alone can make it true again,
 * asks for a timer at that moment.
 */
const decide = (rule: CompiledRule, view: View, at: number, cause: Cause, out: Collector): void => {
  const node = rule.condition
  const value = node.test(view, at, undefined)
  const trueUntil = view.edge(rule.slot)
  if (value && !(trueUntil !== notHolding && trueUntil >= at)) out.match(match(rule, view, at, cause))
  let rise = never
  if (value) {
    const fall = node.canFall ? node.flip(view, at, true) : never
    if (fall !== trueUntil) view.setEdge(rule.slot, fall)
    if (node.canRise && fall < never) rise = node.flip(view, fall, false)
  } else {
    if (trueUntil !== notHolding) view.setEdge(rule.slot, notHolding)
    if (node.canRise) rise = node.flip(view, at, false)
  }
  if (node.canRise) schedule(rule, view, rise, cause.eventId, out)
  view.setDecided(rule.slot)
}

const decideTimer = (rule: CompiledRule, view: View, timer: TimerRequest, out: Collector) => {
  view.clearTimer(rule.slot)
  if (timer.dueAt > view.state.clock) view.state.clock = timer.dueAt
  decide(rule, view, timer.dueAt, { eventId: timer.anchorEventId, key: `${timer.anchorEventId}@${timer.dueAt}` }, out)
}

/** Decides the rule's pending timers due before `before`, so a timer delivered late is not lost. */
const catchUp = (rule: CompiledRule, view: View, before: number, out: Collector) => {
  if (!rule.condition.canRise) return
  while (view.dueBefore(rule.slot, before)) decideTimer(rule, view, view.timer(rule.slot)!, out)
}

/**
 * Whether deciding the rule now would repeat its last decision and leave its edge memory
 * and timer as they are: it was decided on the state as it is but for this event, the event
 * cannot change what it reads (`wake`), and time alone has not changed its value since:
 * it is still true (its edge memory lies ahead) or still false (no timer of its is due).
 */
const unchanged = (rule: CompiledRule, view: View, at: number, wake: Wake, columns: Columns, offset: number): boolean => {
  if (offset < 0 || !view.decided(rule.slot) || wakes(wake, columns, offset)) return false
  const trueUntil = view.edge(rule.slot)
  return (trueUntil > at || trueUntil === notHolding) && !view.dueBy(rule.slot, at)
}

/**
 * Folds an event into the state and decides the rules that read it, at the latest event
 * time seen. A late event is inserted in event-time order, so windows stay exact.
 */
export const observe = (compiled: CompiledRuleSet, state: RulesState, event: Event): Outcome => {
  const view = viewOf(compiled.layout, state)
  const next = view.state
  const out = new Collector()
  const rules = rulesFor(compiled, event.name)
  for (let i = 0; i < rules.length; i++) catchUp(rules[i]!, view, event.occurredAt, out)
  next.revision++
  foldFacts(next.facts, event.name, event.occurredAt)
  if (event.occurredAt > next.clock) next.clock = event.occurredAt
  const stream = compiled.layout.stream(event.name)
  const offset = stream === undefined ? -1 : view.store(stream, toStored(event, stream.requirement.properties), next.clock)
  const columns = stream === undefined ? noEvents : view.columns[stream.slot]!
  const wakeups = compiled.wakes.get(event.name)
  const late = event.occurredAt < next.clock
  const cause: Cause = { eventId: event.id, key: event.id }
  for (let i = 0; i < rules.length; i++) {
    // A late event can still cancel a timer that is due but not yet delivered: decide that first.
    if (late) catchUp(rules[i]!, view, next.clock, out)
    if (wakeups !== undefined && unchanged(rules[i]!, view, next.clock, wakeups[i], columns, offset)) continue
    decide(rules[i]!, view, next.clock, cause, out)
  }
  return out.outcome(next)
}

/**
 * Decides a rule at its timer's due time; a timer that was replaced or cancelled since is ignored. A timer set by
 * an earlier version of a rule still in the set wakes its current version, as a late-delivered timer does in
 * `catchUp`: republishing a rule must not drop the deadlines its users are waiting on.
 */
export const timerDue = (compiled: CompiledRuleSet, state: RulesState, timer: TimerRequest): Outcome => {
  const view = viewOf(compiled.layout, state)
  const out = new Collector()
  const rule = compiled.byId.get(timer.ruleId)
  const pending = rule === undefined ? state.timers.find((t) => t.ruleId === timer.ruleId) : view.timer(rule.slot)
  if (pending === undefined || pending.dueAt !== timer.dueAt || pending.ruleVersion !== timer.ruleVersion) {
    return out.outcome(state)
  }
  if (rule === undefined) {
    removeTimer(view.state, pending)
    out.cancel(pending)
    return out.outcome(view.state)
  }
  decideTimer(rule, view, pending, out)
  return out.outcome(view.state)
}

/**
 * Merges traits (as `Identified` does) and decides the rules that read traits, at the latest time seen: a rule on
 * traits alone has no event to be decided on, and one mixing traits with events must not wait for its next event.
 */
export const identify = (
  compiled: CompiledRuleSet,
  state: RulesState,
  identified: { readonly id: string; readonly occurredAt: number; readonly traits: Readonly<Record<string, unknown>> }
): Outcome => {
  const merged = mergeTraits(state, identified.traits)
  const view = viewOf(compiled.layout, merged)
  const next = view.state
  const out = new Collector()
  const rules = compiled.traitReaders
  for (let i = 0; i < rules.length; i++) catchUp(rules[i]!, view, identified.occurredAt, out)
  next.revision++
  if (identified.occurredAt > next.clock) next.clock = identified.occurredAt
  const cause: Cause = { eventId: identified.id, key: identified.id }
  for (let i = 0; i < rules.length; i++) decide(rules[i]!, view, next.clock, cause, out)
  return out.outcome(next)
}

/**
 * Whether a past match still holds on the history as now known (late events included):
 * false means a late event shows it should not have fired, so the actor retracts it.
 * A match of another rule version cannot be judged by this set and is kept.
 */
export const recheck = (
  compiled: CompiledRuleSet,
  state: RulesState,
  past: { readonly ruleId: string; readonly ruleVersion: number; readonly at: number }
): boolean => {
  const rule = compiled.byId.get(past.ruleId)
  if (rule === undefined || rule.version !== past.ruleVersion) return true
  return rule.condition.test(viewOf(compiled.layout, state), past.at, undefined)
}

/**
 * The rules an event of `name` could change that hold at `at`, without touching the state
 * or edge memory: for audits ("what holds now?") and for comparing raw evaluation speed.
 */
export const holding = (compiled: CompiledRuleSet, state: RulesState, name: string, at: number): Array<CompiledRule> => {
  const rules = rulesFor(compiled, name)
  const view = viewOf(compiled.layout, state)
  const held: Array<CompiledRule> = []
  for (let i = 0; i < rules.length; i++) if (rules[i]!.condition.test(view, at, undefined)) held.push(rules[i]!)
  return held
}
