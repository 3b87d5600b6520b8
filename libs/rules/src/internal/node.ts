/**
 * Conditions compiled into closures over a user's state, read through its `View` (flat
 * columns per event name, see `layout.ts` and `columns.ts`).
 *
 * Why closures and not `new Function` code generation: generated code is faster on deep
 * trees (no megamorphic calls between nodes), but it puts `eval` in the engine (and in
 * every CSP or sandbox review) and would need a second code path for explanations, which
 * here are the same closures run with a trace. Every node has the same object shape
 * `{ test, flip, canRise, canFall }`, leaves are specialised at compile time (one closure
 * per operator, early exit for "at least n", `where` filters reduced to a bit tested per
 * event), and identical leaves are shared across rules (`Sharing`). Across many users the
 * end-to-end `observe` path is bound by the cache lines a decision touches, not by calls
 * between closures, which is what the column layout addresses.
 *
 * Semantics are continuous in event time: a condition has a value at every millisecond
 * `at`, reading only events with `occurredAt <= at`. `flip` finds the next time the value
 * changes by time passing alone (windows sliding, deadlines arriving), which is what lets
 * edge-triggering and timers be exact without evaluating at every instant.
 */
import type { AbsentCondition, Condition, EventCondition, SequenceCondition } from "../Condition.js"
import { kindOf } from "../Condition.js"
import type { EventRef, Trace } from "../Explanation.js"
import { maxEventsPerStep } from "../Explanation.js"
import type { CountOperators, Predicates, Test } from "../Predicate.js"
import { read, toTest } from "../Predicate.js"
import type { RulesState } from "../RulesState.js"
import { never } from "../RulesState.js"
import type { Layout, Spec } from "./layout.js"
import type { Columns } from "./columns.js"
import { firstAfter, passes } from "./columns.js"
import type { View } from "./view.js"

export interface Node {
  /** The value at `at`; with a trace, also records why. */
  readonly test: (view: View, at: number, trace: Trace | undefined) => boolean
  /** The first time after `at` at which the value is no longer `value` (its value at `at`); `never` if none. */
  readonly flip: (view: View, at: number, value: boolean) => number
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

const ref = (view: View, spec: Spec, j: number): EventRef => {
  const event = view.lists[spec.slot]![j / spec.stride]!
  return { id: event.id, name: spec.name, at: event.occurredAt }
}

/** The next time after `at` the value differs, found by testing at each point `next` says something may change. */
const walk = (
  test: (view: View, at: number) => boolean,
  next: (view: View, at: number) => number,
  view: View,
  at: number,
  value: boolean
): number => {
  for (let t = next(view, at); t < never; t = next(view, t)) if (test(view, t) !== value) return t
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

/** Offset of the first match at or after offset `j`. */
const nextMatch = (columns: Columns, spec: Spec, j: number): number => {
  while (j < columns.length && !passes(columns, j, spec)) j += spec.stride
  return j
}

const eventNode = (path: string, condition: EventCondition, spec: Spec): Node => {
  const { within } = condition
  const { stride } = spec
  const holds = countTest(condition.count)
  const enough = enoughMatches(condition.count)
  const ops = condition.count ?? { gte: 1 }
  const test = (view: View, at: number, trace: Trace | undefined): boolean => {
    const columns = view.columns[spec.slot]!
    const from = at - within
    let n = 0
    const seen: Array<EventRef> | undefined = trace === undefined ? undefined : []
    for (let j = columns.length - stride; j >= 0; j -= stride) {
      const t = columns[j]!
      if (t > at) continue
      if (t <= from) break
      if (passes(columns, j, spec)) {
        n++
        // One ref past the bound is enough for the explanation to note the truncation.
        if (seen !== undefined) {
          if (seen.length <= maxEventsPerStep) seen.push(ref(view, spec, j))
        } else if (n >= enough) break
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
  const kthLatestLeaves = (columns: Columns, at: number): number | undefined => {
    let n = 0
    for (let j = columns.length - stride; j >= 0; j -= stride) {
      if (!passes(columns, j, spec)) continue
      if (columns[j]! > at) return undefined
      if (++n === enough) return columns[j]! + within
    }
    return never
  }
  // Replays the window sliding forward: each match enters at its time and leaves `within` later.
  const flip = (view: View, at: number, value: boolean): number => {
    const columns = view.columns[spec.slot]!
    if (columns.length === 0) return never
    if (value && enough < Infinity) {
      const leaves = kthLatestLeaves(columns, at)
      if (leaves !== undefined) return leaves
    }
    const end = columns.length
    let leave = nextMatch(columns, spec, firstAfter(columns, stride, at - within))
    let enter = leave
    let n = 0
    while (enter < end && columns[enter]! <= at) enter = nextMatch(columns, spec, enter + stride), n++
    for (;;) {
      const entering = enter < end ? columns[enter]! : never
      const leaving = leave < end ? columns[leave]! + within : never
      const t = Math.min(entering, leaving)
      if (t >= never) return never
      while (enter < end && columns[enter]! === t) enter = nextMatch(columns, spec, enter + stride), n++
      while (leave < end && columns[leave]! + within === t) leave = nextMatch(columns, spec, leave + stride), n--
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

/** Offset of the latest matching event before `before` and after `after`; -1 if none. */
const latest = (columns: Columns, spec: Spec, before: number, after: number): number => {
  for (let j = columns.length - spec.stride; j >= 0; j -= spec.stride) {
    const t = columns[j]!
    if (t <= after) return -1
    if (t < before && passes(columns, j, spec)) return j
  }
  return -1
}

/** The next time after `at` a matching event enters (`occurredAt`) or leaves (`occurredAt + span`) view. */
const nextEdge = (view: View, spec: Spec, at: number, span: number, next: number): number => {
  const columns = view.columns[spec.slot]!
  for (let j = columns.length - spec.stride; j >= 0; j -= spec.stride) {
    const t = columns[j]!
    if (t + span <= at) break
    if (!passes(columns, j, spec)) continue
    if (t > at) next = Math.min(next, t)
    else next = Math.min(next, t + span)
  }
  return next
}

const sequenceNode = (path: string, condition: SequenceCondition, steps: ReadonlyArray<Spec>): Node => {
  const { within } = condition
  /** The earliest chain, steps strictly in time order, inside (at - within, at]. */
  const test = (view: View, at: number, trace: Trace | undefined): boolean => {
    const chain: Array<EventRef> | undefined = trace === undefined ? undefined : []
    let after = at - within
    let held = true
    for (let s = 0; s < steps.length && held; s++) {
      const step = steps[s]!
      const columns = view.columns[step.slot]!
      held = false
      for (let j = firstAfter(columns, step.stride, after); j < columns.length; j += step.stride) {
        if (columns[j]! > at) break
        if (passes(columns, j, step)) {
          after = columns[j]!
          chain?.push(ref(view, step, j))
          held = true
          break
        }
      }
    }
    trace?.add({ path, kind: "sequence", held, events: trace.bound(chain!) })
    return held
  }
  const untraced = (view: View, at: number) => test(view, at, undefined)
  const next = (view: View, at: number) => {
    let earliest = never
    for (let s = 0; s < steps.length; s++) earliest = nextEdge(view, steps[s]!, at, within, earliest)
    return earliest
  }
  const after = (view: View, at: number) => {
    for (let s = 0; s < steps.length; s++) if (latest(view.columns[steps[s]!.slot]!, steps[s]!, never, at) >= 0) return true
    return false
  }
  /** The chain whose first step is latest stays in the window longest: built backwards from the last step. */
  const latestStart = (view: View, at: number): number => {
    let before = at + 1
    for (let s = steps.length - 1; s >= 0; s--) {
      const columns = view.columns[steps[s]!.slot]!
      const found = latest(columns, steps[s]!, before, at - within)
      if (found < 0) return never
      before = columns[found]!
    }
    return before
  }
  return {
    test,
    // Without events after `at`, a chain can only leave the window, never form.
    flip: (view, at, value) =>
      after(view, at) ? walk(untraced, next, view, at, value) : value ? latestStart(view, at) + within : never,
    canRise: false,
    canFall: true
  }
}

const absentNode = (path: string, condition: AbsentCondition, missing: Spec, anchor: Spec, anchorWhen: Node | undefined): Node => {
  const { within } = condition
  const cancelledBetween = (view: View, from: number, to: number): boolean => {
    const columns = view.columns[missing.slot]!
    for (let j = columns.length - missing.stride; j >= 0; j -= missing.stride) {
      const t = columns[j]!
      if (t <= from) return false
      if (t <= to && passes(columns, j, missing)) return true
    }
    return false
  }
  /** Offset of the anchor whose deadline is exactly `at` and that nothing cancelled; -1 if none. */
  const deadlineAnchor = (view: View, at: number): number => {
    const columns = view.columns[anchor.slot]!
    const anchoredAt = at - within
    for (let j = firstAfter(columns, anchor.stride, anchoredAt) - anchor.stride; j >= 0; j -= anchor.stride) {
      if (columns[j]! < anchoredAt) return -1
      if (
        passes(columns, j, anchor) &&
        !cancelledBetween(view, anchoredAt, at) &&
        (anchorWhen === undefined || anchorWhen.test(view, anchoredAt, undefined))
      ) return j
    }
    return -1
  }
  const test = (view: View, at: number, trace: Trace | undefined): boolean => {
    const found = deadlineAnchor(view, at)
    if (trace !== undefined) {
      if (found >= 0) anchorWhen?.test(view, at - within, trace)
      trace.add({
        path,
        kind: "absent",
        held: found >= 0,
        events: found < 0 ? [] : [ref(view, anchor, found)],
        window: { from: at - within, to: at }
      })
    }
    return found >= 0
  }
  /**
   * The earliest deadline after `at` that nothing (known so far) cancels. Anchors and
   * cancelling events are both in time order, so one pass over each suffices.
   */
  const nextDeadline = (view: View, at: number): number => {
    const anchors = view.columns[anchor.slot]!
    const cancels = view.columns[missing.slot]!
    let c = 0
    for (let j = firstAfter(anchors, anchor.stride, at - within); j < anchors.length; j += anchor.stride) {
      const from = anchors[j]!
      if (!passes(anchors, j, anchor)) continue
      if (c === 0) c = firstAfter(cancels, missing.stride, from)
      while (c < cancels.length && (cancels[c]! <= from || !passes(cancels, c, missing))) c += missing.stride
      const cancelled = c < cancels.length && cancels[c]! <= from + within
      if (!cancelled && (anchorWhen === undefined || anchorWhen.test(view, from, undefined))) return from + within
    }
    return never
  }
  // A deadline holds for one millisecond, unless the next anchor's deadline follows at once.
  const pulseEnd = (view: View, at: number): number => {
    let t = at + 1
    while (test(view, t, undefined)) t++
    return t
  }
  return {
    test,
    flip: (view, at, value) => (value ? pulseEnd(view, at) : nextDeadline(view, at)),
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
    test: (view, _at, trace) => {
      const state = view.state
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
  test: (view, at, trace) => {
    const held = !child.test(view, at, trace)
    trace?.add({ path, kind: "not", held })
    return held
  },
  flip: (view, at, value) => child.flip(view, at, !value),
  canRise: child.canFall,
  canFall: child.canRise
})

/**
 * `all` and `any` are duals: `all` is `any` with every value negated. `decisive` is the child
 * value that settles the node (false for `all`, true for `any`).
 */
const junctionNode = (path: string, kind: "all" | "any", children: ReadonlyArray<Node>): Node => {
  const decisive = kind === "any"
  const test = (view: View, at: number, trace: Trace | undefined): boolean => {
    for (let i = 0; i < children.length; i++) {
      if (children[i]!.test(view, at, trace) === decisive) {
        trace?.add({ path, kind, held: decisive })
        return decisive
      }
    }
    trace?.add({ path, kind, held: !decisive })
    return !decisive
  }
  // Moving towards `decisive` takes one child: the earliest child to get there.
  const towardsDecisive = (view: View, at: number) => {
    let t = never
    for (let i = 0; i < children.length; i++) t = Math.min(t, children[i]!.flip(view, at, !decisive))
    return t
  }
  /**
   * Moving away takes every decisive child to leave: not before the last of them leaves.
   * If another has come back by then, the node is still decisive there; go on from that time.
   */
  const awayFromDecisive = (view: View, at: number) => {
    let t = at
    while (t < never) {
      let last = t
      for (let i = 0; i < children.length; i++) {
        const child = children[i]!
        if (child.test(view, t, undefined) === decisive) last = Math.max(last, child.flip(view, t, decisive))
      }
      if (last >= never || test(view, last, undefined) !== decisive) return last
      t = last
    }
    return never
  }
  return {
    test,
    flip: (view, at, value) => (value === decisive ? awayFromDecisive(view, at) : towardsDecisive(view, at)),
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
      test: (view, at, trace) => {
        if (trace !== undefined) return leaf.test(view, at, trace)
        const state = view.state
        if (shared.state === state && shared.revision === state.revision && shared.at === at) return shared.value
        const value = leaf.test(view, at, undefined)
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

/** What compiling a condition needs from the rule set: shared leaves and the state layout. */
export interface Context {
  readonly sharing: Sharing
  readonly layout: Layout
}

/** Compiles a condition; `path` names it in explanations (`when.all[1].event`). */
export const compileNode = (condition: Condition, path: string, context: Context): Node => {
  const { layout, sharing } = context
  const kind = kindOf(condition)
  const here = `${path}.${kind}`
  const child = (c: Condition, at: string) => compileNode(c, at, context)
  if ("all" in condition) return junctionNode(here, "all", condition.all.map((c, i) => child(c, `${here}[${i}]`)))
  if ("any" in condition) return junctionNode(here, "any", condition.any.map((c, i) => child(c, `${here}[${i}]`)))
  if ("not" in condition) return notNode(here, child(condition.not, here))
  if ("event" in condition) return sharing.share(condition, eventNode(here, condition.event, layout.spec(condition.event)))
  if ("sequence" in condition) {
    return sharing.share(condition, sequenceNode(here, condition.sequence, condition.sequence.steps.map((step) => layout.spec(step))))
  }
  if ("absent" in condition) {
    const { after } = condition.absent
    const when = after.when === undefined ? undefined : child(after.when, `${here}.after.when`)
    return sharing.share(condition, absentNode(here, condition.absent, layout.spec(condition.absent), layout.spec(after), when))
  }
  return sharing.share(condition, traitNode(here, condition.trait))
}
