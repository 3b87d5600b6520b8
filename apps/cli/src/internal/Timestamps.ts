import type { Timestamp } from "@nudge/proto"
import { Clock, Effect } from "effect"

export const fromMillis = (millis: number): Timestamp => {
  const seconds = Math.floor(millis / 1000)
  return { seconds, nanos: Math.floor((millis - seconds * 1000) * 1_000_000) }
}

export const fromDate = (date: Date): Timestamp => fromMillis(date.getTime())

/** The producer clock reading the engine compares with its receive time to correct for skew. */
export const now: Effect.Effect<Timestamp> = Effect.map(Clock.currentTimeMillis, fromMillis)

export const toDate = (timestamp: Timestamp): Date => new Date(timestamp.seconds * 1000 + timestamp.nanos / 1_000_000)
