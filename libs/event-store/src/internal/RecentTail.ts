import type { AppendError, AppendRequest, AppendResult, RecordedEvent } from "../EventStore.js"
import type { LocalAppend, LogReads, Page } from "./LocalLog.js"
import type { EncodedEvent } from "./SqliteLog.js"

/**
 * About a second at the live rates the latency bench offers (2,000 events/s): live followers stay within a few
 * hundred events of the head, and a follower further behind reads the database at the same cost per event either
 * way. 32,768 held 16 s of events, long enough for every one of them to be promoted to V8's old generation, whose
 * collections then set the p99: from Track to TriggerFired at 2,000/s, 182-228 ms with 32,768 and 112-142 ms with
 * 2,048, three runs each; end-to-end throughput and ingestion did not change.
 */
const Capacity = 2_048

/**
 * Whether a value reads back from JSON as itself: plain objects and arrays
 * of strings, finite numbers, booleans and null. Anything else (undefined
 * members, NaN, class instances) changes on the way through the database,
 * and a follower must see what a reader of the database sees.
 */
const survivesJson = (value: unknown): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "object": {
      if (value === null) return true
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !survivesJson(value[i])) return false
        return true
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      for (const key in value) if (!survivesJson((value as Record<string, unknown>)[key])) return false
      return true
    }
    default:
      return false
  }
}

const asStored = (value: unknown, json: string | null) => (json === null ? null : survivesJson(value) ? value : JSON.parse(json))

/**
 * The last events this process appended, in log order, as the objects it
 * appended: a follower of the log (the decision router, a watcher) that is
 * close behind the head reads them from here instead of reading and parsing
 * the rows the writer thread just wrote. Everything it holds is contiguous in
 * the log; anything it cannot vouch for is read from the database.
 *
 * It also knows the head: this process makes every append (the embedded
 * store is single-writer), so a follower that has caught up is told there is
 * nothing new without a query. Live followers ask after every commit, and at
 * a few hundred commits a second those empty reads were a tenth of the
 * engine thread.
 */
export const make = (database: LogReads) => {
  let events: Array<RecordedEvent> = []
  let first = 0
  let head = database.head()

  const last = () => events[events.length - 1]

  const add = (event: RecordedEvent) => {
    const tail = last()
    if (tail !== undefined && event.position.commit !== tail.position.commit + 1n) clear()
    events.push(event)
    if (events.length - first > Capacity) first += Capacity / 4
    if (first > Capacity) {
      events = events.slice(first)
      first = 0
    }
  }

  const clear = () => {
    events = []
    first = 0
  }

  /** Index of the first held event after `after`, or undefined when the tail does not cover that point. */
  const startAfter = (after: bigint): number | undefined => {
    const head = events[first]
    const tail = last()
    if (head === undefined || tail === undefined) return undefined
    if (after < head.position.commit - 1n || after >= tail.position.commit) return undefined
    return first + Number(after - (head.position.commit - 1n))
  }

  const readAll: LogReads["readAll"] = (after, maxCount, filter): Page => {
    if (maxCount > 0 && after >= head) return { events: [], scannedTo: after }
    const start = maxCount > 0 ? startAfter(after) : undefined
    if (start === undefined) return database.readAll(after, maxCount, filter)
    const prefixes = filter.streamPrefixes
    const found: Array<RecordedEvent> = []
    let i = start
    for (; i < events.length && found.length < maxCount; i++) {
      const e = events[i]!
      if (prefixes === undefined || prefixes.some((p) => e.stream.startsWith(p))) found.push(e)
    }
    return { events: found, scannedTo: events[i - 1]!.position.commit }
  }

  return {
    reads: { ...database, readAll, head: () => head } satisfies LogReads,
    /**
     * Records what a batch appended, in the order the writer gave positions:
     * the objects appended where they read back from JSON as themselves,
     * else what the database holds.
     */
    appended: (
      requests: ReadonlyArray<AppendRequest>,
      encoded: ReadonlyArray<LocalAppend<EncodedEvent>>,
      results: ReadonlyArray<AppendResult | AppendError>,
      created: number
    ) => {
      results.forEach((result, r) => {
        if ("_tag" in result) return
        const { events: proposed, stream } = requests[r]!
        result.events.forEach((e, i) => {
          if (e.duplicate) return
          if (e.position.commit > head) head = e.position.commit
          const event = proposed[i]!
          const stored = encoded[r]!.events[i]!
          add({
            id: e.id,
            stream,
            type: event.type,
            revision: e.revision,
            position: e.position,
            data: asStored(event.data, stored.data),
            metadata: asStored(event.metadata, stored.metadata),
            created
          })
        })
      })
    },
    /** A delete takes events out of the middle of the log. */
    clear
  }
}
