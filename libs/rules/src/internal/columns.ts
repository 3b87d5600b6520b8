/**
 * One user's kept events of one name as a single flat array beside the public list: per
 * event its time, then its mark words (which `where` filters it passed, see `layout.ts`),
 * `stride` numbers in all. One array per name keeps a scan to a few adjacent cache lines;
 * conditions open the public list only to cite events in explanations.
 *
 * Functions take and return offsets into the array (event index times stride).
 */
import type { StoredEvent } from "../RulesState.js"
import type { Spec, Stream } from "./layout.js"

export type Columns = Array<number>

/** Stands for a name with no event kept yet; never written to. */
export const noEvents: Columns = []

export const columnsOf = (list: ReadonlyArray<StoredEvent>, stream: Stream): Columns => {
  const columns: Columns = []
  for (let i = 0; i < list.length; i++) {
    columns.push(list[i]!.occurredAt)
    stream.mark(list[i]!.properties, columns)
  }
  return columns
}

/** Whether the event at offset `j` passes the spec's filter. */
export const passes = (columns: Columns, j: number, spec: Spec): boolean =>
  spec.bit === 0 || (columns[j + spec.offset]! & spec.bit) !== 0

/**
 * Offset of the first event after `t`. Windows usually reach back past the oldest event
 * kept, so that case is answered from the first line of the array, not by a search that
 * touches several.
 */
export const firstAfter = (columns: Columns, stride: number, t: number): number => {
  if (columns.length === 0 || columns[0]! > t) return 0
  let lo = 1
  let hi = columns.length / stride
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (columns[mid * stride]! > t) hi = mid
    else lo = mid + 1
  }
  return lo * stride
}

/**
 * Inserts in event-time order (appending in the usual in-order case), then drops what no
 * rule can look at any more: older than `keepMs` before the clock, or beyond `maxEvents`.
 * Returns the event's offset, or -1 when dropping went beyond what no rule can see (the
 * event itself, or events past `maxEvents`, which thresholds cannot tell apart but sequences
 * and absences can): then the other events of the name changed too.
 */
export const insert = (columns: Columns, list: Array<StoredEvent>, stored: StoredEvent, stream: Stream, clock: number): number => {
  const stride = stream.stride
  let i = list.length
  while (i > 0 && columns[(i - 1) * stride]! > stored.occurredAt) i--
  if (i === list.length) {
    list.push(stored)
    columns.push(stored.occurredAt)
    stream.mark(stored.properties, columns)
  } else {
    const entry = [stored.occurredAt]
    stream.mark(stored.properties, entry)
    list.splice(i, 0, stored)
    columns.splice(i * stride, 0, ...entry)
  }
  const horizon = clock - stream.requirement.keepMs
  let stale = 0
  while (stale < list.length && columns[stale * stride]! < horizon) stale++
  const expired = stale
  stale = Math.max(stale, list.length - stream.requirement.maxEvents)
  if (stale > 0) {
    list.splice(0, stale)
    columns.splice(0, stale * stride)
  }
  return stale > expired || i < stale ? -1 : (i - stale) * stride
}
