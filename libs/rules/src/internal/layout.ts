/**
 * Where a compiled rule set finds what it reads in a user's state: a slot per stored event
 * name, a slot per rule, and per name the distinct `where` filters, each one bit of a mark
 * computed once when the event is stored.
 *
 * Why: across thousands of users a user's state is rarely in cache when its next event
 * arrives, so evaluation is bound by the cache lines it touches. Conditions that read flat
 * columns (times, marks) and arrays indexed by slot touch a few lines per name; reading one
 * object per stored event, its properties and a hash table per record touched several per
 * event (measured: 5 µs against 1 µs for the same evaluations once the data is cached).
 */
import type { EventSpec } from "../Condition.js"
import type { Predicates } from "../Predicate.js"
import type { EventRequirement } from "../RulesState.js"
import type { PropertiesTest } from "./where.js"
import { compileWhere } from "./where.js"

/** Marks stay small integers (unboxed in arrays) with 30 bits per word. */
const bitsPerWord = 30

/** One stored event name: where its columns live, what is kept, and the filters its marks record. */
export class Stream {
  /** Mark words per stored event. */
  readonly words: number
  /** Numbers per stored event in its columns: the time, then the mark words. */
  readonly stride: number

  constructor(
    readonly name: string,
    readonly slot: number,
    readonly requirement: EventRequirement,
    readonly filters: ReadonlyArray<PropertiesTest>
  ) {
    this.words = Math.ceil(filters.length / bitsPerWord)
    this.stride = 1 + this.words
  }

  /** Appends the mark words of an event with these (stored) properties. */
  mark(properties: Readonly<Record<string, unknown>>, into: Array<number>): void {
    for (let word = 0; word < this.words; word++) {
      let bits = 0
      const end = Math.min(this.filters.length, (word + 1) * bitsPerWord)
      for (let f = word * bitsPerWord; f < end; f++) if (this.filters[f]!(properties)) bits |= 1 << (f - word * bitsPerWord)
      into.push(bits)
    }
  }
}

/** How an event spec reads its name's columns; `bit` 0 means every event of the name matches. */
export class Spec {
  constructor(
    readonly name: string,
    readonly slot: number,
    readonly stride: number,
    /** Where its mark word sits after the event's time. */
    readonly offset: number,
    readonly bit: number
  ) {}
}

export interface StreamInput {
  readonly name: string
  readonly requirement: EventRequirement
  /** Every distinct `where` some rule puts on this name. */
  readonly wheres: Iterable<Predicates>
}

export class Layout {
  readonly streams: ReadonlyArray<Stream>
  private readonly byName: ReadonlyMap<string, Stream>
  private readonly slots: ReadonlyMap<string, number>
  private readonly edgeSlots: ReadonlyMap<string, number>
  /** Rule ids in slot order. */
  readonly ruleIds: ReadonlyArray<string>
  /**
   * Per slot, the key of the rule's edge memory in a user's state: its id and version, since what one version
   * remembers of its condition says nothing of another's (a changed condition could not rise while the old
   * one's memory held).
   */
  readonly edgeKeys: ReadonlyArray<string>
  /** Per name, filter index by the filter's JSON. */
  private readonly filterIndex: ReadonlyMap<string, ReadonlyMap<string, number>>

  constructor(
    inputs: ReadonlyArray<StreamInput>,
    /** The rules in slot order. */
    rules: ReadonlyArray<{ readonly id: string; readonly version: number }>,
    /** How many users keep their view between calls (see `internal/view.ts`). */
    readonly keptViews: number
  ) {
    const filterIndex = new Map<string, Map<string, number>>()
    this.streams = inputs.map((input, slot) => {
      const index = new Map<string, number>()
      const filters: Array<PropertiesTest> = []
      for (const where of input.wheres) {
        const key = JSON.stringify(where)
        if (index.has(key)) continue
        index.set(key, filters.length)
        filters.push(compileWhere(where))
      }
      filterIndex.set(input.name, index)
      return new Stream(input.name, slot, input.requirement, filters)
    })
    this.byName = new Map(this.streams.map((stream) => [stream.name, stream]))
    this.filterIndex = filterIndex
    this.ruleIds = rules.map((rule) => rule.id)
    this.edgeKeys = rules.map((rule) => `${rule.id}@v${rule.version}`)
    this.slots = new Map(this.ruleIds.map((id, slot) => [id, slot]))
    this.edgeSlots = new Map(this.edgeKeys.map((key, slot) => [key, slot]))
  }

  /**
   * The slot whose rule an edge memory key belongs to: this version's key, or a bare rule id as states written
   * before edge keys had versions hold (read as the current version's, as they always were).
   */
  edgeSlot(key: string): number | undefined {
    return this.edgeSlots.get(key) ?? this.slots.get(key)
  }

  ruleSlot(ruleId: string): number | undefined {
    return this.slots.get(ruleId)
  }

  /** The stream of an event name, if some rule reads the name. */
  stream(name: string): Stream | undefined {
    return this.byName.get(name)
  }

  spec(spec: EventSpec): Spec {
    const stream = this.byName.get(spec.name)!
    if (spec.where === undefined) return new Spec(spec.name, stream.slot, stream.stride, 0, 0)
    const f = this.filterIndex.get(spec.name)!.get(JSON.stringify(spec.where))!
    return new Spec(spec.name, stream.slot, stream.stride, 1 + Math.floor(f / bitsPerWord), 1 << f % bitsPerWord)
  }
}
