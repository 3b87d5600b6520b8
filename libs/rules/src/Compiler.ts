/**
 * A published rule set compiles once into condition closures, an index from event name to
 * the rules that read it (an event evaluates only rules it can change), and the
 * requirements that bound a user's `RulesState`.
 */
import type { Condition, EventSpec } from "./Condition.js"
import type { Predicates } from "./Predicate.js"
import type { Action, Cap, Rule, RuleSet } from "./RuleSet.js"
import { Layout } from "./internal/layout.js"
import type { Wake } from "./internal/wake.js"
import type { Context, DerivedFact, Node } from "./internal/node.js"
import { compileNode, isDerivedFact, Sharing } from "./internal/node.js"
import type { EventRequirement } from "./RulesState.js"
import { sessionStarted } from "./RulesState.js"

export interface CompiledRule {
  readonly rule: Rule
  readonly id: string
  readonly version: number
  readonly priority: number
  readonly group: string | undefined
  readonly action: Action
  readonly cooldownMs: number
  readonly caps: ReadonlyArray<Cap>
  readonly consent: string | undefined
  /** How far back firings must be remembered for the cooldown and caps. */
  readonly firingMemoryMs: number
  readonly condition: Node
  /** Where its per-user state sits in evaluation's arrays (see `internal/layout.ts`). */
  readonly slot: number
}

export interface Requirements {
  readonly events: Readonly<Record<string, EventRequirement>>
  /** Trait names (first path segment) some rule reads. */
  readonly traits: ReadonlyArray<string>
  readonly facts: ReadonlyArray<DerivedFact>
}

export interface CompiledRuleSet {
  readonly ruleSet: RuleSet
  readonly rules: ReadonlyArray<CompiledRule>
  readonly byId: ReadonlyMap<string, CompiledRule>
  /** Rules to evaluate for an event of a name; names absent here use `everyEvent`. */
  readonly index: ReadonlyMap<string, ReadonlyArray<CompiledRule>>
  /** Rules that read a fact every event changes (`lastSeenAt`, `firstSeenAt`). */
  readonly everyEvent: ReadonlyArray<CompiledRule>
  /** Rules that read traits: an `Identified` decides them. */
  readonly traitReaders: ReadonlyArray<CompiledRule>
  /** Per name in `index`, aligned with its rules: which events of the name can change each rule. */
  readonly wakes: ReadonlyMap<string, ReadonlyArray<Wake>>
  readonly requirements: Requirements
  /** Where evaluation finds what the rules read in a user's state. */
  readonly layout: Layout
}

export interface Options {
  /** How late (behind the latest event time) events, timers and rechecks may still be decided exactly. Default 6 h. */
  readonly allowedLatenessMs?: number
  /** Cap on events kept per name, whatever the windows. Default 1,000. */
  readonly maxEventsPerName?: number
  /**
   * How many users, the most recently active, keep their evaluation view between calls; the
   * others keep only their plain state, about a third of the memory, and get a view again at
   * their next event. Default 8,192.
   */
  readonly keptViews?: number
}

interface Reads {
  readonly names: Set<string>
  readonly facts: Set<DerivedFact>
  readonly traits: Set<string>
  /** Per name: look-back, property keys, largest count threshold, property filters, whether some spec has none. */
  readonly events: Map<
    string,
    { windowMs: number; properties: Set<string>; maxCount: number; wheres: Array<Predicates>; unfiltered: boolean }
  >
}

const emptyReads = (): Reads => ({ names: new Set(), facts: new Set(), traits: new Set(), events: new Map() })

const readEvent = (reads: Reads, spec: EventSpec, lookBack: number, maxCount = 0) => {
  reads.names.add(spec.name)
  const entry = reads.events.get(spec.name) ?? { windowMs: 0, properties: new Set<string>(), maxCount: 0, wheres: [], unfiltered: false }
  entry.windowMs = Math.max(entry.windowMs, lookBack)
  entry.maxCount = Math.max(entry.maxCount, maxCount)
  for (const key of Object.keys(spec.where ?? {})) entry.properties.add(key.split(".")[0]!)
  if (spec.where !== undefined) entry.wheres.push(spec.where)
  else entry.unfiltered = true
  reads.events.set(spec.name, entry)
}

/** Walks a condition; `offset` is how far before the decision time it is evaluated (absence anchors). */
const collect = (condition: Condition, offset: number, reads: Reads): void => {
  if ("all" in condition) condition.all.forEach((c) => collect(c, offset, reads))
  else if ("any" in condition) condition.any.forEach((c) => collect(c, offset, reads))
  else if ("not" in condition) collect(condition.not, offset, reads)
  else if ("event" in condition) {
    const { count, within } = condition.event
    readEvent(reads, condition.event, offset + within, Math.max(0, ...Object.values(count ?? {})))
  } else if ("sequence" in condition) {
    condition.sequence.steps.forEach((step) => readEvent(reads, step, offset + condition.sequence.within))
  } else if ("absent" in condition) {
    const { after, within } = condition.absent
    readEvent(reads, condition.absent, offset + within)
    readEvent(reads, after, offset + within)
    if (after.when !== undefined) collect(after.when, offset + within, reads)
  } else {
    for (const key of Object.keys(condition.trait)) {
      if (isDerivedFact(key)) reads.facts.add(key)
      else reads.traits.add(key.split(".")[0]!)
    }
  }
}

const factsChangedBy = (facts: ReadonlySet<DerivedFact>) => ({
  sessions: facts.has("sessionCount") || facts.has("isReturning"),
  everyEvent: facts.has("firstSeenAt") || facts.has("lastSeenAt")
})

const compileRule = (rule: Rule, slot: number, context: Context): CompiledRule => {
  const caps = rule.caps ?? []
  return {
    rule,
    id: rule.id,
    version: rule.version,
    priority: rule.priority,
    group: rule.group,
    action: rule.action,
    cooldownMs: rule.cooldown,
    caps,
    consent: rule.consent,
    firingMemoryMs: Math.max(rule.cooldown, ...caps.map((cap) => cap.per)),
    condition: compileNode(rule.when, "when", context),
    slot
  }
}

export const compile = (ruleSet: RuleSet, options: Options = {}): CompiledRuleSet => {
  const lateness = options.allowedLatenessMs ?? 21_600_000
  const maxEventsPerName = options.maxEventsPerName ?? 1_000
  const all = emptyReads()
  const sharing = new Sharing()
  for (const rule of ruleSet.rules) {
    sharing.count(rule.when)
    collect(rule.when, 0, all)
  }
  const events: Record<string, EventRequirement> = {}
  for (const [name, entry] of all.events) {
    events[name] = {
      windowMs: entry.windowMs,
      keepMs: entry.windowMs + lateness,
      maxEvents: Math.max(maxEventsPerName, entry.maxCount + 1),
      properties: [...entry.properties]
    }
  }
  const reads = ruleSet.rules.map((rule) => {
    const own = emptyReads()
    collect(rule.when, 0, own)
    const changedBy = factsChangedBy(own.facts)
    if (changedBy.sessions) own.names.add(sessionStarted)
    return { names: own.names, events: own.events, sessions: changedBy.sessions, everyEvent: changedBy.everyEvent, traits: own.traits.size > 0 }
  })
  const readers = new Map<string, Array<number>>()
  reads.forEach(({ everyEvent, names }, i) => {
    if (!everyEvent) for (const name of names) readers.set(name, [...(readers.get(name) ?? []), i])
  })
  // Rules an event decides together get adjacent slots, so their per-rule state shares cache
  // lines; names read by fewer rules claim theirs first, so a name read by many (say through
  // `sessionCount`) does not scatter the others.
  const grouped = [...readers.values()].sort((a, b) => a.length - b.length).flat()
  const bySlot = [...new Set([...grouped, ...ruleSet.rules.keys()])]
  const slots = new Map(bySlot.map((i, slot) => [i, slot]))
  const layout = new Layout(
    [...all.events].map(([name, entry]) => ({ name, requirement: events[name]!, wheres: entry.wheres })),
    bySlot.map((i) => ruleSet.rules[i]!),
    options.keptViews ?? 8_192
  )
  const rules = ruleSet.rules.map((rule, i) => compileRule(rule, slots.get(i)!, { sharing, layout }))
  const everyEvent = [...ruleSet.rules.keys()].filter((i) => reads[i]!.everyEvent)
  // Rules reading every event join each name's list, in rule-set order, so an event does one lookup.
  const indexed = new Map([...readers].map(([name, list]) => [name, [...list, ...everyEvent].sort((a, b) => a - b)]))
  const wakeOf = (i: number, name: string): Wake => {
    const own = reads[i]!
    const entry = own.events.get(name)
    if (own.everyEvent || (own.sessions && name === sessionStarted) || entry === undefined || entry.unfiltered) return undefined
    return entry.wheres.map((where) => layout.spec({ name, where }))
  }
  return {
    ruleSet,
    rules,
    byId: new Map(rules.map((rule) => [rule.id, rule])),
    index: new Map([...indexed].map(([name, list]) => [name, list.map((i) => rules[i]!)])),
    everyEvent: everyEvent.map((i) => rules[i]!),
    traitReaders: rules.filter((_, i) => reads[i]!.traits),
    wakes: new Map([...indexed].map(([name, list]) => [name, list.map((i) => wakeOf(i, name))])),
    requirements: { events, traits: [...all.traits], facts: [...all.facts] },
    layout
  }
}

/** The rules an event of this name can change. */
export const rulesFor = (compiled: CompiledRuleSet, name: string): ReadonlyArray<CompiledRule> =>
  compiled.index.get(name) ?? compiled.everyEvent
