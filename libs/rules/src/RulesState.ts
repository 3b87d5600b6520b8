/**
 * What one user's rules need to remember, and no more: traits, derived facts, recent events
 * per name (bounded by the compiled set's requirements), per-rule edge memory, pending
 * timers and recent firings.
 *
 * Ownership: the functions that take a state (`observe`, `timerDue`, `identify`,
 * `recordFiring`) take ownership of it and return its successor, which may be the same
 * object updated in place. Keep using only the returned value; take a copy first
 * (`structuredClone`: the state is plain JSON data) if an older version is needed.
 */
import type { TimerRequest } from "./Timer.js"

/** The event counted by the `sessionCount` fact. */
export const sessionStarted = "Session Started"

/** Marks "no end in sight" in edge memory; a number so the state stays JSON. */
export const never = Number.MAX_SAFE_INTEGER

/**
 * Edge memory of a rule that was false at its last decision. Kept rather than deleted:
 * rules go true and false all the time, and deleting keys makes V8 shrink and regrow the
 * record (measured: a fifth of `observe`). It is below any decision time, so readers
 * that expect no entry for a false rule see the same ("not true until after now").
 */
export const notHolding = Number.MIN_SAFE_INTEGER

export interface StoredEvent {
  readonly id: string
  readonly occurredAt: number
  /** Only the properties some rule reads. */
  readonly properties: Readonly<Record<string, unknown>>
}

/** Derived facts kept for every user, whatever the rules: O(1) in size. */
export interface Facts {
  readonly sessionCount: number
  readonly firstSeenAt: number | null
  readonly lastSeenAt: number | null
}

export interface RulesState {
  /** The latest event time seen (events and timers): "now" for decisions. */
  readonly clock: number
  /** Counts in-place changes to what conditions read, so shared answers are not reused across them. */
  readonly revision: number
  readonly traits: Readonly<Record<string, unknown>>
  readonly facts: Facts
  /** Per event name, in event-time order (ties in arrival order). */
  readonly events: Readonly<Record<string, ReadonlyArray<StoredEvent>>>
  /**
   * Per rule id: while its condition was true at the last decision, the time it stops being
   * true; `notHolding` (or no entry) if it was false.
   */
  readonly edges: Readonly<Record<string, number>>
  /**
   * Pending timers, at most one per rule, in the order they were scheduled. A list, not a
   * record by rule id: callers scan it before every event for the due ones, and enumerating
   * a record that changes keys this often is several times slower (evaluation finds a rule's
   * timer by slot, see `internal/view.ts`).
   */
  readonly timers: ReadonlyArray<TimerRequest>
  /** Per rule id: recent firing times, ascending (as long as cooldowns and caps look back). */
  readonly firings: Readonly<Record<string, ReadonlyArray<number>>>
}

/** What the compiled rule set needs kept for one event name. */
export interface EventRequirement {
  /** The longest look-back of any rule reading this name (windows, absences, anchors). */
  readonly windowMs: number
  /** How long events are kept: the window plus the allowed lateness of late events and timers. */
  readonly keepMs: number
  /** At most this many events are kept; at least one more than any count threshold. */
  readonly maxEvents: number
  /** Top-level properties some predicate reads; others are not stored. */
  readonly properties: ReadonlyArray<string>
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Every state is built here, so all share one hidden class. Evaluation reads a state's
 * fields at sites that see every user; spread copies can give each user its own class, and
 * then each of those reads misses V8's lookup cache (measured: 990 classes for 1,000 users,
 * a cache miss per field read).
 */
const shaped = (state: RulesState): RulesState => ({
  clock: state.clock,
  revision: state.revision,
  traits: state.traits,
  facts: { sessionCount: state.facts.sessionCount, firstSeenAt: state.facts.firstSeenAt, lastSeenAt: state.facts.lastSeenAt },
  events: state.events,
  edges: state.edges,
  timers: state.timers,
  firings: state.firings
})

/**
 * A fresh state. Its per-name and per-rule records have no prototype: V8 keeps such objects
 * as hash tables, so lookups stay monomorphic across thousands of users whose records got
 * their keys in different orders (ordinary objects measured 45% slower through `observe`).
 */
export const make = (): RulesState =>
  shaped({
    clock: Number.MIN_SAFE_INTEGER,
    revision: 0,
    traits: {},
    facts: { sessionCount: 0, firstSeenAt: null, lastSeenAt: null },
    events: Object.create(null),
    edges: Object.create(null),
    timers: [],
    firings: Object.create(null)
  })

const record = <A>(from: Readonly<Record<string, A>>): Record<string, A> => Object.assign(Object.create(null), from)

/**
 * Snapshots written before `timers` became a list hold a record by rule id, whose values
 * are in scheduling order.
 */
export const timerList = (timers: RulesState["timers"] | Readonly<Record<string, TimerRequest>>): Array<TimerRequest> =>
  Array.isArray(timers) ? (timers as Array<TimerRequest>) : Object.values(timers)

/**
 * What to write as a state's snapshot (plain JSON data): the state without the edge memory
 * of rules that do not hold. Evaluation keeps an entry for every rule it decided (see
 * `notHolding`), which with a full record would triple a typical snapshot (measured with 100
 * rules: 3.6 against 1.2 KB, and 51 against 17 µs to parse and revive); `revive` and
 * evaluation read a missing entry as not holding.
 */
export const snapshot = (state: RulesState): RulesState => ({ ...state, edges: holding(state.edges, state.clock) })

/**
 * The edge memory of the rules that hold at `clock`; the rest read as not holding when missing. Memory that ran
 * out before `clock` decides as not holding does (every decision is at `clock` or later), and dropping it also
 * drops what earlier rule versions left.
 */
export const holding = (edges: RulesState["edges"], clock: number): Record<string, number> => {
  const kept: Record<string, number> = {}
  for (const key in edges) {
    const until = edges[key]!
    if (until !== notHolding && until >= clock) {
      Object.defineProperty(kept, key, { value: until, enumerable: true, writable: true, configurable: true })
    }
  }
  return kept
}

/** A state read back from a snapshot (JSON), with its records made fast again (see `make`). */
export const revive = (state: RulesState): RulesState =>
  shaped({
    ...state,
    events: record(state.events),
    edges: record(state.edges),
    timers: [...timerList(state.timers)],
    firings: record(state.firings)
  })

/** Merges traits, as `Identified` does; later values win, `null` clears a trait. */
export const identify = (state: RulesState, traits: Readonly<Record<string, unknown>>): RulesState => {
  const merged: Record<string, unknown> = { ...state.traits }
  for (const [key, value] of Object.entries(traits)) {
    if (value === null) delete merged[key]
    else merged[key] = value
  }
  return shaped({ ...state, traits: merged })
}

/** Counts the event into the derived facts, in place (the state is owned by the caller of `observe`). */
export const foldFacts = (facts: Facts, name: string, at: number): void => {
  const mutable = facts as Mutable<Facts>
  if (name === sessionStarted) mutable.sessionCount++
  if (facts.firstSeenAt === null || at < facts.firstSeenAt) mutable.firstSeenAt = at
  if (facts.lastSeenAt === null || at > facts.lastSeenAt) mutable.lastSeenAt = at
}

/** The stored form of an event: only the properties some rule reads. */
export const toStored = (
  event: { readonly id: string; readonly occurredAt: number; readonly properties: Readonly<Record<string, unknown>> },
  keys: ReadonlyArray<string>
): StoredEvent => {
  const kept: Record<string, unknown> = {}
  for (let i = 0; i < keys.length; i++) {
    const value = event.properties[keys[i]!]
    if (value !== undefined) kept[keys[i]!] = value
  }
  return { id: event.id, occurredAt: event.occurredAt, properties: kept }
}
