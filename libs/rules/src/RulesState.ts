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
  /** Per rule id: while its condition was true at the last decision, the time it stops being true. */
  readonly edges: Readonly<Record<string, number>>
  /** Per rule id: the one timer that decides it next. */
  readonly timers: Readonly<Record<string, TimerRequest>>
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
 * A fresh state. Its per-name and per-rule records have no prototype: V8 keeps such objects
 * as hash tables, so lookups stay monomorphic across thousands of users whose records got
 * their keys in different orders (ordinary objects measured 45% slower through `observe`).
 */
export const make = (): RulesState => ({
  clock: Number.MIN_SAFE_INTEGER,
  revision: 0,
  traits: {},
  facts: { sessionCount: 0, firstSeenAt: null, lastSeenAt: null },
  events: Object.create(null),
  edges: Object.create(null),
  timers: Object.create(null),
  firings: Object.create(null)
})

const record = <A>(from: Readonly<Record<string, A>>): Record<string, A> => Object.assign(Object.create(null), from)

/** A state read back from a snapshot (JSON), with its records made fast again (see `make`). */
export const revive = (state: RulesState): RulesState => ({
  ...state,
  facts: { ...state.facts },
  events: record(state.events),
  edges: record(state.edges),
  timers: record(state.timers),
  firings: record(state.firings)
})

/** Merges traits, as `Identified` does; later values win, `null` clears a trait. */
export const identify = (state: RulesState, traits: Readonly<Record<string, unknown>>): RulesState => {
  const merged: Record<string, unknown> = { ...state.traits }
  for (const [key, value] of Object.entries(traits)) {
    if (value === null) delete merged[key]
    else merged[key] = value
  }
  return { ...state, traits: merged }
}

/** Counts the event into the derived facts, in place (the state is owned by the caller of `observe`). */
export const foldFacts = (facts: Facts, name: string, at: number): void => {
  const mutable = facts as Mutable<Facts>
  if (name === sessionStarted) mutable.sessionCount++
  if (facts.firstSeenAt === null || at < facts.firstSeenAt) mutable.firstSeenAt = at
  if (facts.lastSeenAt === null || at > facts.lastSeenAt) mutable.lastSeenAt = at
}

const project = (properties: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>) => {
  const kept: Record<string, unknown> = {}
  for (let i = 0; i < keys.length; i++) {
    const value = properties[keys[i]!]
    if (value !== undefined) kept[keys[i]!] = value
  }
  return kept
}

/**
 * Inserts in event-time order (appending in the usual in-order case), then drops what no
 * rule can look at any more: older than `keepMs` before the clock, or beyond `maxEvents`.
 */
export const remember = (
  list: Array<StoredEvent>,
  event: { readonly id: string; readonly occurredAt: number; readonly properties: Readonly<Record<string, unknown>> },
  requirement: EventRequirement,
  clock: number
): void => {
  const stored: StoredEvent = {
    id: event.id,
    occurredAt: event.occurredAt,
    properties: project(event.properties, requirement.properties)
  }
  let at = list.length
  while (at > 0 && list[at - 1]!.occurredAt > event.occurredAt) at--
  if (at === list.length) list.push(stored)
  else list.splice(at, 0, stored)
  const horizon = clock - requirement.keepMs
  let stale = 0
  while (stale < list.length && list[stale]!.occurredAt < horizon) stale++
  stale = Math.max(stale, list.length - requirement.maxEvents)
  if (stale > 0) list.splice(0, stale)
}
