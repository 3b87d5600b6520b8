/**
 * Why a rule matched: the sub-conditions that were decided, whether each held, and the
 * events that made it so. Bounded (steps and events per step) so it fits in the
 * `TriggerFired` event that carries it.
 */
import type { Kind } from "./Condition.js"

export interface EventRef {
  readonly id: string
  readonly name: string
  readonly at: number
}

export interface Step {
  /** Where in the rule: `when.all[1].event`, `when.absent.after.when.trait`. */
  readonly path: string
  readonly kind: Kind
  readonly held: boolean
  /** Matching events (most recent first), a sequence's chain, or an absence's anchor. */
  readonly events?: ReadonlyArray<EventRef>
  /** How many events matched (`event` conditions). */
  readonly count?: number
  /** The trait and fact values read (`trait` conditions). */
  readonly values?: Readonly<Record<string, unknown>>
  /** The interval that had to stay free of the event (`absent` conditions). */
  readonly window?: { readonly from: number; readonly to: number }
}

export interface Explanation {
  readonly at: number
  readonly steps: ReadonlyArray<Step>
  /** Set when steps or events were left out to respect the bounds. */
  readonly truncated: boolean
}

export const maxSteps = 32
export const maxEventsPerStep = 5

/** Collects steps while a rule is evaluated in explaining mode; children land before parents. */
export class Trace {
  readonly steps: Array<Step> = []
  truncated = false

  add(step: Step): void {
    if (this.steps.length < maxSteps) this.steps.push(step)
    else this.truncated = true
  }

  /** Keeps the first `maxEventsPerStep` refs and notes whether any were dropped. */
  bound(events: ReadonlyArray<EventRef>): ReadonlyArray<EventRef> {
    if (events.length <= maxEventsPerStep) return events
    this.truncated = true
    return events.slice(0, maxEventsPerStep)
  }

  explain(at: number): Explanation {
    return { at, steps: this.steps, truncated: this.truncated }
  }
}
