/**
 * What evaluation reads of one user's state, laid out for one compiled rule set (see
 * `layout.ts`): event columns per name slot, edge memory and timers per rule slot.
 *
 * The public fields of `RulesState` stay the source of truth and are written through on
 * every change, so snapshots, copies and callers always see the current state. The view is
 * kept on the state object under a symbol and not enumerable, so JSON, `structuredClone`
 * and spreads leave it behind; a state without one (revived, copied, or last used with
 * another rule set) gets it rebuilt from the public fields on first use.
 *
 * Only the most recently used users keep their view (`Layout.keptViews`), and a user who
 * comes back pays one rebuild, as after a snapshot. Every activation rebuilds (users
 * beyond the live bound come back from snapshots all the time), so a rebuild allocates
 * only what the layout's slots need: the per-rule numbers are recycled, and the state's
 * own records are used as they are.
 */
import type { Mutable, RulesState, StoredEvent } from "../RulesState.js"
import { notHolding, timerList } from "../RulesState.js"
import type { TimerRequest } from "../Timer.js"
import type { Layout, Stream } from "./layout.js"
import type { Columns } from "./columns.js"
import { columnsOf, insert, noEvents } from "./columns.js"

const own = <A>(record: Readonly<Record<string, A>>, key: string): A | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined

const define = <A>(record: Record<string, A>, key: string, value: A): void => {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true })
}

/** `__proto__` is a legal rule id and event name: define it, since assigning it would set the prototype. */
const put = <A>(record: Record<string, A>, key: string, value: A): void => {
  if (key === "__proto__") define(record, key, value)
  else record[key] = value
}

/**
 * Per rule slot, four numbers: the edge memory, the pending timer's due time and rule
 * version (copied, so deciding that a timer stays as it is reads no timer object, and the
 * few that are read are found in the state's short list), and 1 once the rule was decided
 * through this view.
 */
const perRule = 4
const noTimer = Infinity

export class View {
  /** Set on every use; the ring of kept views passes over a used view once before it lets it go. */
  used = false

  constructor(
    readonly state: Mutable<RulesState>,
    readonly layout: Layout,
    /** Per name slot; `noEvents` until the first event of the name is kept. */
    readonly columns: Array<Columns>,
    /** Per name slot: the list in `events`. */
    readonly lists: Array<Array<StoredEvent> | undefined>,
    /** See `perRule`; rules read by the same event names have adjacent slots. */
    readonly rules: Float64Array,
    /** Whether the state holds edge memory under bare rule ids (see `Layout.edgeSlot`). */
    private readonly bareEdges: boolean
  ) {}

  /** Keeps the event; returns its offset in the name's columns, or -1 (see `insert`). */
  store(stream: Stream, event: StoredEvent, clock: number): number {
    let columns = this.columns[stream.slot]!
    let list = this.lists[stream.slot]
    if (list === undefined) {
      const events = this.state.events as Record<string, Array<StoredEvent>>
      list = this.lists[stream.slot] = []
      put(events, stream.name, list)
      columns = this.columns[stream.slot] = []
    }
    return insert(columns, list, event, stream, clock)
  }

  /** `edges[ruleId]`, or `notHolding`. */
  edge(slot: number): number {
    return this.rules[slot * perRule]!
  }

  /**
   * Written through to the state's record as it is, a hash table (see `RulesState.make`):
   * each write boxes a number there, which costs less than giving every rebuilt view a
   * record with a field per rule (a hundred boxed numbers a rebuild with 100 rules).
   */
  setEdge(slot: number, until: number): void {
    this.rules[slot * perRule] = until
    const edges = this.state.edges as Record<string, number>
    put(edges, this.layout.edgeKeys[slot]!, until)
    // A bare id is an older state's key for the same memory: it must not come back when the view is rebuilt.
    if (this.bareEdges) delete edges[this.layout.ruleIds[slot]!]
  }

  /**
   * Whether the rule's last decision was made through this view, so on the state as it is
   * but for events since. A view is built afresh after anything else changed the state
   * (`identify` returns a new object, snapshots are revived), and then every rule counts
   * as undecided.
   */
  decided(slot: number): boolean {
    return this.rules[slot * perRule + 3] === 1
  }

  setDecided(slot: number): void {
    this.rules[slot * perRule + 3] = 1
  }

  /** Whether the rule has a timer due before `before`. */
  dueBefore(slot: number, before: number): boolean {
    return this.rules[slot * perRule + 1]! < before
  }

  /** Whether the rule has a timer due at or before `at`. */
  dueBy(slot: number, at: number): boolean {
    return this.rules[slot * perRule + 1]! <= at
  }

  /** The rule's pending timer; the per-rule numbers say whether there is one, sparing a scan of `timers`. */
  timer(slot: number): TimerRequest | undefined {
    if (this.rules[slot * perRule + 1] === noTimer) return undefined
    const ruleId = this.layout.ruleIds[slot]
    return this.state.timers.find((t) => t.ruleId === ruleId)
  }

  /** Whether the rule's pending timer is due at `dueAt` for this rule version. */
  pending(slot: number, dueAt: number, version: number): boolean {
    return this.rules[slot * perRule + 1] === dueAt && this.rules[slot * perRule + 2] === version
  }

  /** Replaces the rule's timer, if any; the new one goes last, as scheduled. */
  setTimer(slot: number, timer: TimerRequest): void {
    this.clearTimer(slot)
    this.rules[slot * perRule + 1] = timer.dueAt
    this.rules[slot * perRule + 2] = timer.ruleVersion
    ;(this.state.timers as Array<TimerRequest>).push(timer)
  }

  clearTimer(slot: number): void {
    const pending = this.timer(slot)
    if (pending === undefined) return
    this.rules[slot * perRule + 1] = noTimer
    this.rules[slot * perRule + 2] = NaN
    removeTimer(this.state, pending)
  }
}

export const removeTimer = (state: Mutable<RulesState>, timer: TimerRequest): void => {
  const timers = state.timers as Array<TimerRequest>
  timers.splice(timers.indexOf(timer), 1)
}

const viewKey = Symbol("nudge.rules.view")

interface WithView {
  [viewKey]?: View
}

const build = (layout: Layout, state: Mutable<RulesState>): View => {
  const edges = state.edges
  state.timers = timerList(state.timers)
  const lists = layout.streams.map((stream) => own(state.events, stream.name) as Array<StoredEvent> | undefined)
  const columns = layout.streams.map((stream, slot) => {
    const list = lists[slot]
    return list === undefined ? noEvents : columnsOf(list, stream)
  })
  const ring = ringOf(layout)
  const rules = ring.spare.pop() ?? new Float64Array(layout.ruleIds.length * perRule)
  for (let slot = 0; slot < layout.ruleIds.length; slot++) {
    rules[slot * perRule] = notHolding
    rules[slot * perRule + 1] = noTimer
    rules[slot * perRule + 2] = NaN
    rules[slot * perRule + 3] = 0
  }
  // From the record's keys (a snapshot's holds only the rules that hold): reading every rule
  // by name is a lookup per rule that the slot index does not need.
  let bareEdges = false
  for (const key of Object.keys(edges)) {
    const slot = layout.edgeSlot(key)
    if (slot === undefined) continue
    rules[slot * perRule] = edges[key]!
    bareEdges ||= key === layout.ruleIds[slot]
  }
  for (const timer of state.timers) {
    const slot = layout.ruleSlot(timer.ruleId)
    if (slot === undefined) continue
    rules[slot * perRule + 1] = timer.dueAt
    rules[slot * perRule + 2] = timer.ruleVersion
  }
  return new View(state, layout, columns, lists, rules, bareEdges)
}

/** The state's view for this layout, built on first use. */
export const viewOf = (layout: Layout, state: RulesState): View => {
  const kept = (state as WithView)[viewKey]
  if (kept !== undefined && kept.layout === layout) {
    kept.used = true
    return kept
  }
  const view = build(layout, state as Mutable<RulesState>)
  Object.defineProperty(state, viewKey, { value: view, writable: true, enumerable: false, configurable: true })
  keep(view)
  return view
}

/**
 * Views in the order they were built or passed over, oldest from `head` (a queue without
 * shifting). Held weakly: the ring decides when a view goes, not whether its state lives
 * (a user dropped by its actor, or a ring kept alive by one user still on an older rule set,
 * must not hold thousands of states).
 */
interface Ring {
  views: Array<WeakRef<View> | undefined>
  head: number
  /**
   * The per-rule numbers of released views, for the next views built. A typed array that size
   * lives outside V8's heap, and with more active users than kept views every input built one
   * and left one to the collector.
   */
  spare: Array<Float64Array>
}

const rings = new WeakMap<Layout, Ring>()
/** Each view built past the bound releases one, so a few spares are enough. */
const maxSpare = 16

const ringOf = (layout: Layout): Ring => {
  let ring = rings.get(layout)
  if (ring === undefined) rings.set(layout, (ring = { views: [], head: 0, spare: [] }))
  return ring
}

/**
 * Second chance (the CLOCK policy): past the bound, the oldest view goes unless it was used
 * since it was queued, in which case it is queued again, unmarked. Users active now stay
 * fast without any bookkeeping on the path of a kept view but setting a flag.
 */
const keep = (view: View): void => {
  const layout = view.layout
  const ring = ringOf(layout)
  ring.views.push(new WeakRef(view))
  while (ring.views.length - ring.head > layout.keptViews) {
    const entry = ring.views[ring.head]!
    ring.views[ring.head++] = undefined
    const oldest = entry.deref()
    if (oldest === undefined) continue
    if (oldest.used) {
      oldest.used = false
      ring.views.push(entry)
    } else if (release(oldest) && ring.spare.length < maxSpare) ring.spare.push(oldest.rules)
  }
  if (ring.head > layout.keptViews) {
    ring.views = ring.views.slice(ring.head)
    ring.head = 0
  }
}

/**
 * Detaches the view from its state, unless the state has moved on to another view since; whether it did.
 * Nothing reads a view but through its state, so a released view's numbers are free for another.
 */
const release = (view: View): boolean => {
  const state = view.state as Mutable<RulesState> & WithView
  if (state[viewKey] !== view) return false
  state[viewKey] = undefined
  return true
}
