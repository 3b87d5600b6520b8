/**
 * Conditions compiled into closures over a user's `RulesState`.
 *
 * Why closures and not `new Function` code generation: generated code is faster on deep
 * trees (no megamorphic calls between nodes), but it puts `eval` in the engine (and in
 * every CSP or sandbox review) and would need a second code path for explanations, which
 * here are the same closures run with a trace. Every node has the same object shape
 * `{ test, flip, canRise, canFall }`, leaves are specialised at compile time (one closure
 * per operator, early exit for "at least n"), and identical leaves are shared across rules
 * (`Sharing`). Measured in docs/benchmarks-rules.md: raw evaluation is well above 100x
 * json-rules-engine; the end-to-end `observe` path is bound by state access, not by calls
 * between closures, so generated code would not change that figure much.
 *
 * Semantics are continuous in event time: a condition has a value at every millisecond
 * `at`, reading only events with `occurredAt <= at`. `flip` finds the next time the value
 * changes by time passing alone (windows sliding, deadlines arriving), which is what lets
 * edge-triggering and timers be exact without evaluating at every instant.
 */
import type { AbsentCondition, Condition, EventCondition, EventSpec, SequenceCondition } from "../Condition.js"
import { kindOf } from "../Condition.js"
import type { EventRef, Trace } from "../Explanation.js"
import type { CountOperators, Predicates, Test } from "../Predicate.js"
import { read, toTest } from "../Predicate.js"
import type { RulesState, StoredEvent } from "../RulesState.js"
import { never } from "../RulesState.js"

export interface Node {
  /** The value at `at`; with a trace, also records why. */
  readonly test: (state: RulesState, at: number, trace: Trace | undefined) => boolean
  /** The first time after `at` at which the value is no longer `value` (its value at `at`); `never` if none. */
  readonly flip: (state: RulesState, at: number, value: boolean) => number
  /** Whether time passing alone can make it true (e.g. a deadline arriving, a window emptying under `not`). */
  readonly canRise: boolean
  /** Whether time passing alone can make it false (a window sliding past its events). */
  readonly canFall: boolean
}

export const derivedFacts = ["sessionCount", "firstSeenAt", "lastSeenAt", "isReturning"] as const
export type DerivedFact = (typeof derivedFacts)[number]

export const isDerivedFact = (key: string): key is DerivedFact => (derivedFacts as ReadonlyArray<string>).includes(key)

const factValue = (state: RulesState, fact: DerivedFact): unknown =>
  fact === "isReturning" ? state.facts.sessionCount > 1 : state.facts[fact]

type PropertiesTest = (properties: Readonly<Record<string, unknown>>) => boolean

const compileWhere = (where: Predicates | undefined): PropertiesTest | undefined => {
  if (where === undefined) return undefined
  const checks = Object.entries(where).map(([path, predicate]) => ({ path: path.split("."), test: toTest(predicate) }))
  if (checks.length === 1) {
    const { path, test } = checks[0]!
    if (path.length === 1) {
      const key = path[0]!
      return (properties) => test(properties[key])
    }
    return (properties) => test(read(properties, path))
  }
  return (properties) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i]!.test(read(properties, checks[i]!.path))) return false
    return true
  }
}

const matches = (where: PropertiesTest | undefined, event: StoredEvent) => where === undefined || where(event.properties)

/** Index of the first event after `t` (lists are in event-time order). */
const firstAfter = (list: ReadonlyArray<StoredEvent>, t: number): number => {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]!.occurredAt > t) hi = mid
    else lo = mid + 1
  }
  return lo
}

const ref = (name: string, event: StoredEvent): EventRef => ({ id: event.id, name, at: event.occurredAt })

/** The next time after `at` the value differs, found by testing at each point `next` says something may change. */
const walk = (
  test: (state: RulesState, at: number) => boolean,
  next: (state: RulesState, at: number) => number,
  state: RulesState,
  at: number,
  value: boolean
): number => {
  for (let t = next(state, at); t < never; t = next(state, t)) if (test(state, t) !== value) return t
  return never
}

const countTest = (count: CountOperators | undefined): Test => (count === undefined ? (n) => (n as number) > 0 : toTest(count))

/** Scanning can stop once this many matches are seen: beyond it the answer cannot change. */
const enoughMatches = (count: CountOperators | undefined): number => {
  if (count === undefined) return 1
  const { eq, gt, gte, lt, lte, neq } = count
  if (eq !== undefined || neq !== undefined || lt !== undefined || lte !== undefined) return Infinity
  return Math.max(gte ?? 0, gt === undefined ? 0 : gt + 1)
}

const eventNode = (path: string, condition: EventCondition): Node => {
  const { name, within } = condition
  const where = compileWhere(condition.where)
  const holds = countTest(condition.count)
  const enough = enoughMatches(condition.count)
  const ops = condition.count ?? { gte: 1 }
  const test = (state: RulesState, at: number, trace: Trace | undefined): boolean => {
    const list = state.events[name]
    let n = 0
    const seen: Array<EventRef> | undefined = trace === undefined ? undefined : []
    if (list !== undefined) {
      const from = at - within
      for (let i = list.length - 1; i >= 0; i--) {
        const event = list[i]!
        if (event.occurredAt > at) continue
        if (event.occurredAt <= from) break
        if (matches(where, event)) {
          n++
          if (seen !== undefined) seen.push(ref(name, event))
          else if (n >= enough) break
        }
      }
    }
    const held = holds(n)
    trace?.add({ path, kind: "event", held, count: n, events: trace.bound(seen!) })
    return held
  }
  /**
   * "At least k" stops holding when its k-th latest match leaves the window: O(k) on the
   * hot path instead of replaying the window. `undefined` when a match lies after `at`.
   */
  const kthLatestLeaves = (list: ReadonlyArray<StoredEvent>, at: number): number | undefined => {
    let n = 0
    for (let i = list.length - 1; i >= 0; i--) {
      if (!matches(where, list[i]!)) continue
      if (list[i]!.occurredAt > at) return undefined
      if (++n === enough) return list[i]!.occurredAt + within
    }
    return never
  }
  // Replays the window sliding forward: each match enters at its time and leaves `within` later.
  const flip = (state: RulesState, at: number, value: boolean): number => {
    const list = state.events[name]
    if (list === undefined) return never
    if (value && enough < Infinity) {
      const leaves = kthLatestLeaves(list, at)
      if (leaves !== undefined) return leaves
    }
    const nextMatch = (i: number) => {
      while (i < list.length && !matches(where, list[i]!)) i++
      return i
    }
    let leave = nextMatch(firstAfter(list, at - within))
    let enter = leave
    let n = 0
    while (enter < list.length && list[enter]!.occurredAt <= at) enter = nextMatch(enter + 1), n++
    for (;;) {
      const entering = enter < list.length ? list[enter]!.occurredAt : never
      const leaving = leave < list.length ? list[leave]!.occurredAt + within : never
      const t = Math.min(entering, leaving)
      if (t >= never) return never
      while (enter < list.length && list[enter]!.occurredAt === t) enter = nextMatch(enter + 1), n++
      while (leave < list.length && list[leave]!.occurredAt + within === t) leave = nextMatch(leave + 1), n--
      if (holds(n) !== value) return t
    }
  }
  return {
    test,
    flip,
    canRise: ops.lt !== undefined || ops.lte !== undefined || ops.eq !== undefined || ops.neq !== undefined,
    canFall: ops.gt !== undefined || ops.gte !== undefined || ops.eq !== undefined || ops.neq !== undefined
  }
}

interface CompiledSpec {
  readonly name: string
  readonly where: PropertiesTest | undefined
}

const compileSpec = (spec: EventSpec): CompiledSpec => ({ name: spec.name, where: compileWhere(spec.where) })

/** The latest matching event before `before` and after `after`. */
const latest = (state: RulesState, spec: CompiledSpec, before: number, after: number): StoredEvent | undefined => {
  const list = state.events[spec.name]
  if (list === undefined) return undefined
  for (let i = list.length - 1; i >= 0; i--) {
    const event = list[i]!
    if (event.occurredAt <= after) return undefined
    if (event.occurredAt < before && matches(spec.where, event)) return event
  }
  return undefined
}

/** The next time after `at` a matching event enters (`occurredAt`) or leaves (`occurredAt + span`) view. */
const nextEdge = (state: RulesState, spec: CompiledSpec, at: number, span: number, next: number): number => {
  const list = state.events[spec.name]
  if (list === undefined) return next
  for (let i = list.length - 1; i >= 0; i--) {
    const t = list[i]!.occurredAt
    if (t + span <= at) break
    if (!matches(spec.where, list[i]!)) continue
    if (t > at) next = Math.min(next, t)
    else next = Math.min(next, t + span)
  }
  return next
}

const sequenceNode = (path: string, condition: SequenceCondition): Node => {
  const steps = condition.steps.map(compileSpec)
  const { within } = condition
  /** The earliest chain, steps strictly in time order, inside (at - within, at]. */
  const test = (state: RulesState, at: number, trace: Trace | undefined): boolean => {
    const chain: Array<EventRef> | undefined = trace === undefined ? undefined : []
    let after = at - within
    let held = true
    for (let s = 0; s < steps.length && held; s++) {
      const step = steps[s]!
      const list = state.events[step.name]
      held = false
      for (let i = list === undefined ? 0 : firstAfter(list, after); list !== undefined && i < list.length; i++) {
        const event = list[i]!
        if (event.occurredAt > at) break
        if (matches(step.where, event)) {
          after = event.occurredAt
          chain?.push(ref(step.name, event))
          held = true
          break
        }
      }
    }
    trace?.add({ path, kind: "sequence", held, events: trace.bound(chain!) })
    return held
  }
  const next = (state: RulesState, at: number) =>
    steps.reduce((earliest, step) => nextEdge(state, step, at, within, earliest), never)
  const after = (state: RulesState, at: number) => steps.some((step) => latest(state, step, never, at) !== undefined)
  /** The chain whose first step is latest stays in the window longest: built backwards from the last step. */
  const latestStart = (state: RulesState, at: number): number => {
    let before = at + 1
    for (let i = steps.length - 1; i >= 0; i--) {
      const found = latest(state, steps[i]!, before, at - within)
      if (found === undefined) return never
      before = found.occurredAt
    }
    return before
  }
  return {
    test,
    // Without events after `at`, a chain can only leave the window, never form.
    flip: (state, at, value) =>
      after(state, at)
        ? walk((s, t) => test(s, t, undefined), next, state, at, value)
        : value
        ? latestStart(state, at) + within
        : never,
    canRise: false,
    canFall: true
  }
}

const absentNode = (path: string, condition: AbsentCondition, anchorWhen: Node | undefined): Node => {
  const missing = compileSpec(condition)
  const anchor = compileSpec(condition.after)
  const { within } = condition
  const cancelledBetween = (state: RulesState, from: number, to: number): boolean => {
    const list = state.events[missing.name]
    if (list === undefined) return false
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i]!.occurredAt
      if (t <= from) return false
      if (t <= to && matches(missing.where, list[i]!)) return true
    }
    return false
  }
  /** The anchor whose deadline is exactly `at` and that nothing cancelled. */
  const deadlineAnchor = (state: RulesState, at: number): StoredEvent | undefined => {
    const list = state.events[anchor.name]
    if (list === undefined) return undefined
    const anchoredAt = at - within
    for (let i = list.length - 1; i >= 0; i--) {
      const event = list[i]!
      if (event.occurredAt > anchoredAt) continue
      if (event.occurredAt < anchoredAt) return undefined
      if (
        matches(anchor.where, event) &&
        !cancelledBetween(state, anchoredAt, at) &&
        (anchorWhen === undefined || anchorWhen.test(state, anchoredAt, undefined))
      ) return event
    }
    return undefined
  }
  const test = (state: RulesState, at: number, trace: Trace | undefined): boolean => {
    const found = deadlineAnchor(state, at)
    if (trace !== undefined) {
      if (found !== undefined) anchorWhen?.test(state, found.occurredAt, trace)
      trace.add({
        path,
        kind: "absent",
        held: found !== undefined,
        events: found === undefined ? [] : [ref(anchor.name, found)],
        window: { from: at - within, to: at }
      })
    }
    return found !== undefined
  }
  /**
   * The earliest deadline after `at` that nothing (known so far) cancels. Anchors and
   * cancelling events are both in time order, so one pass over each suffices.
   */
  const nextDeadline = (state: RulesState, at: number): number => {
    const anchors = state.events[anchor.name]
    if (anchors === undefined) return never
    const cancels = state.events[missing.name] ?? []
    let c = 0
    for (let i = firstAfter(anchors, at - within); i < anchors.length; i++) {
      const from = anchors[i]!.occurredAt
      if (!matches(anchor.where, anchors[i]!)) continue
      while (c < cancels.length && (cancels[c]!.occurredAt <= from || !matches(missing.where, cancels[c]!))) c++
      const cancelled = c < cancels.length && cancels[c]!.occurredAt <= from + within
      if (!cancelled && (anchorWhen === undefined || anchorWhen.test(state, from, undefined))) return from + within
    }
    return never
  }
  // A deadline holds for one millisecond, unless the next anchor's deadline follows at once.
  const pulseEnd = (state: RulesState, at: number): number => {
    let t = at + 1
    while (test(state, t, undefined)) t++
    return t
  }
  return {
    test,
    flip: (state, at, value) => (value ? pulseEnd(state, at) : nextDeadline(state, at)),
    canRise: true,
    canFall: true
  }
}

const traitNode = (path: string, predicates: Predicates): Node => {
  const checks = Object.entries(predicates).map(([key, predicate]) => {
    const path = key.split(".")
    const test = toTest(predicate)
    const value = isDerivedFact(key)
      ? (state: RulesState) => factValue(state, key)
      : (state: RulesState) => read(state.traits, path)
    return { key, test, value }
  })
  return {
    test: (state, _at, trace) => {
      let held = true
      for (let i = 0; i < checks.length && held; i++) held = checks[i]!.test(checks[i]!.value(state))
      trace?.add({ path, kind: "trait", held, values: Object.fromEntries(checks.map((c) => [c.key, c.value(state)])) })
      return held
    },
    flip: () => never,
    canRise: false,
    canFall: false
  }
}

const notNode = (path: string, child: Node): Node => ({
  test: (state, at, trace) => {
    const held = !child.test(state, at, trace)
    trace?.add({ path, kind: "not", held })
    return held
  },
  flip: (state, at, value) => child.flip(state, at, !value),
  canRise: child.canFall,
  canFall: child.canRise
})

/**
 * `all` and `any` are duals: `all` is `any` with every value negated. `decisive` is the child
 * value that settles the node (false for `all`, true for `any`).
 */
const junctionNode = (path: string, kind: "all" | "any", children: ReadonlyArray<Node>): Node => {
  const decisive = kind === "any"
  const test = (state: RulesState, at: number, trace: Trace | undefined): boolean => {
    for (let i = 0; i < children.length; i++) {
      if (children[i]!.test(state, at, trace) === decisive) {
        trace?.add({ path, kind, held: decisive })
        return decisive
      }
    }
    trace?.add({ path, kind, held: !decisive })
    return !decisive
  }
  // Moving towards `decisive` takes one child: the earliest child to get there.
  const towardsDecisive = (state: RulesState, at: number) =>
    children.reduce((t, child) => Math.min(t, child.flip(state, at, !decisive)), never)
  /**
   * Moving away takes every decisive child to leave: not before the last of them leaves.
   * If another has come back by then, the node is still decisive there; go on from that time.
   */
  const awayFromDecisive = (state: RulesState, at: number) => {
    let t = at
    while (t < never) {
      let last = t
      for (let i = 0; i < children.length; i++) {
        const child = children[i]!
        if (child.test(state, t, undefined) === decisive) last = Math.max(last, child.flip(state, t, decisive))
      }
      if (last >= never || test(state, last, undefined) !== decisive) return last
      t = last
    }
    return never
  }
  return {
    test,
    flip: (state, at, value) => (value === decisive ? awayFromDecisive(state, at) : towardsDecisive(state, at)),
    canRise: children.some((c) => c.canRise),
    canFall: children.some((c) => c.canFall)
  }
}

/** The last answer of a leaf that several rules share, valid for one state revision and time. */
interface Memo {
  state: RulesState | undefined
  revision: number
  at: number
  value: boolean
}

/**
 * Identical leaves (same event, predicates and window) across the rules of a set are
 * decided once per event: rule sets repeat leaves such as "Viewed Pricing within 48 h" far
 * more than they vary them. Only leaves that occur more than once pay for the check.
 */
export class Sharing {
  private readonly counts = new Map<string, number>()
  private readonly memos = new Map<string, Memo>()

  static keyOf(condition: Condition): string {
    return JSON.stringify(condition)
  }

  count(condition: Condition): void {
    const kind = kindOf(condition)
    if (kind === "all" || kind === "any") (condition as Record<typeof kind, ReadonlyArray<Condition>>)[kind].forEach((c) => this.count(c))
    else if ("not" in condition) this.count(condition.not)
    else {
      const key = Sharing.keyOf(condition)
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    }
  }

  share(condition: Condition, leaf: Node): Node {
    const key = Sharing.keyOf(condition)
    if ((this.counts.get(key) ?? 0) < 2) return leaf
    let memo = this.memos.get(key)
    if (memo === undefined) this.memos.set(key, (memo = { state: undefined, revision: -1, at: NaN, value: false }))
    const shared = memo
    return {
      test: (state, at, trace) => {
        if (trace !== undefined) return leaf.test(state, at, trace)
        if (shared.state === state && shared.revision === state.revision && shared.at === at) return shared.value
        const value = leaf.test(state, at, undefined)
        shared.state = state
        shared.revision = state.revision
        shared.at = at
        shared.value = value
        return value
      },
      flip: leaf.flip,
      canRise: leaf.canRise,
      canFall: leaf.canFall
    }
  }
}

/** Compiles a condition; `path` names it in explanations (`when.all[1].event`). */
export const compileNode = (condition: Condition, path: string, sharing: Sharing): Node => {
  const kind = kindOf(condition)
  const here = `${path}.${kind}`
  const child = (c: Condition, at: string) => compileNode(c, at, sharing)
  if ("all" in condition) return junctionNode(here, "all", condition.all.map((c, i) => child(c, `${here}[${i}]`)))
  if ("any" in condition) return junctionNode(here, "any", condition.any.map((c, i) => child(c, `${here}[${i}]`)))
  if ("not" in condition) return notNode(here, child(condition.not, here))
  if ("event" in condition) return sharing.share(condition, eventNode(here, condition.event))
  if ("sequence" in condition) return sharing.share(condition, sequenceNode(here, condition.sequence))
  if ("absent" in condition) {
    const when = condition.absent.after.when
    return sharing.share(
      condition,
      absentNode(here, condition.absent, when === undefined ? undefined : child(when, `${here}.after.when`))
    )
  }
  return sharing.share(condition, traitNode(here, condition.trait))
}
