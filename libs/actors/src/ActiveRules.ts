import { Compiler, RuleSet } from "@nudge/rules"
import { Either } from "effect"

/** The rule set in force: which published version, compiled once. */
export interface ActiveRules {
  /** 0 before anything was published. */
  readonly version: number
  readonly compiled: Compiler.CompiledRuleSet
  /** Longest look-back of any cap across all rules, so the actor keeps no more firing times than that. */
  readonly userCapMemoryMs: number
}

export const make = (version: number, ruleSet: RuleSet.RuleSet): ActiveRules => {
  const compiled = Compiler.compile(ruleSet)
  const caps = ruleSet.caps ?? []
  return { version, compiled, userCapMemoryMs: Math.max(0, ...caps.map((c) => c.per)) }
}

export const none: ActiveRules = make(0, { rules: [] })

/**
 * A published text, parsed again on load. It was valid when published, but validation can tighten
 * since (ranges, nesting): a set that no longer parses is passed over like an undecodable event, as
 * throwing here stopped the router at it on every restart.
 */
export const fromPublished = (version: number, text: string, format: "yaml" | "json"): ActiveRules | undefined =>
  Either.match(RuleSet.parseRuleSet(text, format), { onLeft: () => undefined, onRight: (ruleSet) => make(version, ruleSet) })
