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
import type { Mutable, RulesState, StoredEvent } from "./RulesState.js"
import { foldFacts, never, remember } from "./RulesState.js"
import type { TimerRequest } from "./Timer.js"

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
  readonly causeEventId: string
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

const match = (rule: CompiledRule, state: RulesState, at: number, causeEventId: string): Match => {
  const trace = new Trace()
  rule.condition.test(state, at, trace)
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
    causeEventId,
    explanation: trace.explain(at)
  }
}

const schedule = (rule: CompiledRule, state: RulesState, dueAt: number, anchorEventId: string, out: Collector) => {
  const timers = state.timers as Mutable<RulesState["timers"]>
  const pending = timers[rule.id]
  if (pending !== undefined && pending.dueAt === dueAt && pending.ruleVersion === rule.version) return
  if (pending !== undefined) {
    delete timers[rule.id]
    out.cancel(pending)
  }
  if (dueAt < never) {
    const timer: TimerRequest = { ruleId: rule.id, ruleVersion: rule.version, dueAt, anchorEventId }
    timers[rule.id] = timer
    out.schedule(timer)
  }
}

/**
 * Decides one rule at `at`. It matches when true now and not continuously true since its
 * last decision (edge memory holds the time it would stop being true). Then it remembers
 * when the condition will stop being true and, if time alone can make it true again,
 * asks for a timer at that moment.
 */
const decide = (rule: CompiledRule, state: RulesState, at: number, causeEventId: string, out: Collector): void => {
  const node = rule.condition
  const edges = state.edges as Mutable<RulesState["edges"]>
  const value = node.test(state, at, undefined)
  const trueUntil = edges[rule.id]
  if (value && !(trueUntil !== undefined && trueUntil >= at)) out.match(match(rule, state, at, causeEventId))
  let rise = never
  if (value) {
    const fall = node.canFall ? node.flip(state, at, true) : never
    if (fall !== trueUntil) edges[rule.id] = fall
    if (node.canRise && fall < never) rise = node.flip(state, fall, false)
  } else {
    if (trueUntil !== undefined) delete edges[rule.id]
    if (node.canRise) rise = node.flip(state, at, false)
  }
  if (node.canRise) schedule(rule, state, rise, causeEventId, out)
}

const decideTimer = (rule: CompiledRule, state: Mutable<RulesState>, timer: TimerRequest, out: Collector) => {
  delete (state.timers as Mutable<RulesState["timers"]>)[rule.id]
  if (timer.dueAt > state.clock) state.clock = timer.dueAt
  decide(rule, state, timer.dueAt, timer.anchorEventId, out)
}

/** Decides the rule's pending timers due before `before`, so a timer delivered late is not lost. */
const catchUp = (rule: CompiledRule, state: Mutable<RulesState>, before: number, out: Collector) => {
  if (!rule.condition.canRise) return
  for (let timer = state.timers[rule.id]; timer !== undefined && timer.dueAt < before; timer = state.timers[rule.id]) {
    decideTimer(rule, state, timer, out)
  }
}

/**
 * Folds an event into the state and decides the rules that read it, at the latest event
 * time seen. A late event is inserted in event-time order, so windows stay exact.
 */
export const observe = (compiled: CompiledRuleSet, state: RulesState, event: Event): Outcome => {
  const next = state as Mutable<RulesState>
  const out = new Collector()
  const rules = rulesFor(compiled, event.name)
  for (let i = 0; i < rules.length; i++) catchUp(rules[i]!, next, event.occurredAt, out)
  next.revision++
  foldFacts(next.facts, event.name, event.occurredAt)
  if (event.occurredAt > next.clock) next.clock = event.occurredAt
  const requirement = compiled.requirements.events[event.name]
  if (requirement !== undefined) {
    const events = next.events as Record<string, Array<StoredEvent>>
    remember((events[event.name] ??= []), event, requirement, next.clock)
  }
  const late = event.occurredAt < next.clock
  for (let i = 0; i < rules.length; i++) {
    // A late event can still cancel a timer that is due but not yet delivered: decide that first.
    if (late) catchUp(rules[i]!, next, next.clock, out)
    decide(rules[i]!, next, next.clock, event.id, out)
  }
  return out.outcome(next)
}

/** Decides a rule at its timer's due time; a timer that was replaced or cancelled since is ignored. */
export const timerDue = (compiled: CompiledRuleSet, state: RulesState, timer: TimerRequest): Outcome => {
  const next = state as Mutable<RulesState>
  const out = new Collector()
  const pending = state.timers[timer.ruleId]
  if (pending === undefined || pending.dueAt !== timer.dueAt || pending.ruleVersion !== timer.ruleVersion) {
    return out.outcome(state)
  }
  const rule = compiled.byId.get(timer.ruleId)
  if (rule === undefined || rule.version !== timer.ruleVersion) {
    delete (next.timers as Mutable<RulesState["timers"]>)[timer.ruleId]
    out.cancel(pending)
    return out.outcome(next)
  }
  decideTimer(rule, next, pending, out)
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
  return rule.condition.test(state, past.at, undefined)
}

/**
 * The rules an event of `name` could change that hold at `at`, without touching the state
 * or edge memory: for audits ("what holds now?") and for comparing raw evaluation speed.
 */
export const holding = (compiled: CompiledRuleSet, state: RulesState, name: string, at: number): Array<CompiledRule> => {
  const rules = rulesFor(compiled, name)
  const held: Array<CompiledRule> = []
  for (let i = 0; i < rules.length; i++) if (rules[i]!.condition.test(state, at, undefined)) held.push(rules[i]!)
  return held
}
