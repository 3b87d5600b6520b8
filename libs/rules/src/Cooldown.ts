/**
 * Cooldowns and per-rule caps over the firings a user's state remembers. Pure checks
 * shared by the resolver and the backtest; only a real firing (`recordFiring`) counts.
 */
import type { CompiledRule } from "./Compiler.js"
import type { Mutable, RulesState } from "./RulesState.js"

type Limits = Pick<CompiledRule, "id" | "cooldownMs" | "caps" | "firingMemoryMs">

const firingsIn = (state: RulesState, rule: Limits, from: number, to: number): number => {
  let n = 0
  for (const at of state.firings[rule.id] ?? []) if (at > from && at <= to) n++
  return n
}

/** True when the rule fired less than its cooldown before `at`. */
export const coolingDown = (rule: Limits, state: RulesState, at: number): boolean =>
  rule.cooldownMs > 0 && firingsIn(state, rule, at - rule.cooldownMs, at) > 0

/** The first cap (`max` firings per `per`) that one more firing at `at` would exceed. */
export const capReached = (rule: Limits, state: RulesState, at: number) =>
  rule.caps.find((cap) => firingsIn(state, rule, at - cap.per, at) >= cap.max)

/**
 * Forgets one firing of the rule at `at`: a retracted firing should not have happened, so it holds no cooldown or
 * cap, as a backtest of the same history (which never makes it) has it.
 */
export const forgetFiring = (state: RulesState, ruleId: string, at: number): RulesState => {
  const firings = state.firings[ruleId]
  if (firings !== undefined) (state.firings as Mutable<RulesState["firings"]>)[ruleId] = withoutOne(firings, at)
  return state
}

/** Firing times less one occurrence of `at`: a retracted firing, from a rule's list or a user's. */
export const withoutOne = (times: ReadonlyArray<number>, at: number): ReadonlyArray<number> => {
  const i = times.indexOf(at)
  return i < 0 ? times : times.filter((_, k) => k !== i)
}

/** Records a firing the resolver decided; forgets firings no cooldown or cap can still see. */
export const recordFiring = (state: RulesState, rule: Limits, at: number): RulesState => {
  const kept = (state.firings[rule.id] ?? []).filter((t) => t > at - rule.firingMemoryMs)
  const firings = [...kept, at].sort((a, b) => a - b)
  ;(state.firings as Mutable<RulesState["firings"]>)[rule.id] = firings
  return state
}
