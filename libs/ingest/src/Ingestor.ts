import { EventId, UserEvent } from "@nudge/domain"
import { EventStore, Position, type StoreUnavailable } from "@nudge/event-store"
import type { RedisClient } from "@nudge/redis"
import { Context, Effect, Layer } from "effect"
import { Dedup, type Remembered } from "./Dedup.js"
import { UserErased } from "./IngestError.js"

export interface Accepted {
  readonly _tag: "Accepted"
  readonly eventId: string
  readonly position: string
  readonly duplicate: boolean
}

export type Outcome = Accepted | UserErased

/** Why a batch could not be accepted at all: nothing of it is acknowledged. */
export type AcceptError = StoreUnavailable | RedisClient.RedisUnavailable

const accepted = (r: Remembered, duplicate: boolean): Accepted => ({ _tag: "Accepted", ...r, duplicate })

/**
 * Turns validated user events into durable, deduplicated appends to
 * `user-{userId}`. Results come back in request order, and only after the
 * store has made the new events durable.
 */
export class Ingestor extends Context.Tag("@nudge/ingest/Ingestor")<
  Ingestor,
  {
    readonly accept: (
      events: ReadonlyArray<UserEvent.ProducerEvent>
    ) => Effect.Effect<ReadonlyArray<Outcome>, AcceptError>
  }
>() {}

export const layer = Layer.effect(
  Ingestor,
  Effect.gen(function* () {
    const store = yield* EventStore
    const dedup = yield* Dedup
    return {
      accept: (events) =>
        Effect.gen(function* () {
          // The first of several messages with one id in a batch is the one appended; the rest repeat its answer.
          const firstIndex = new Map<string, number>()
          events.forEach((e, i) => firstIndex.has(e.messageId) || firstIndex.set(e.messageId, i))
          const known = yield* dedup.lookup([...firstIndex.keys()])
          const fresh = [...firstIndex.entries()].filter(([id]) => !known.has(id)).map(([, i]) => events[i]!)
          const results = yield* store.appendMany(
            fresh.map((event) => ({
              stream: UserEvent.streamOf(event.userId),
              events: [{ id: EventId.forMessage(event.messageId), ...UserEvent.encode(event) }],
              expected: "any" as const
            }))
          )
          const outcomes = new Map<string, Outcome>()
          const remembered: Array<readonly [string, Remembered]> = []
          fresh.forEach((event, i) => {
            const result = results[i]!
            if ("_tag" in result) {
              outcomes.set(event.messageId, new UserErased({ userId: event.userId }))
              return
            }
            const appended = result.events[0]!
            const r = { eventId: appended.id, position: Position.format(appended.position) }
            if (!appended.duplicate) remembered.push([event.messageId, r])
            outcomes.set(event.messageId, accepted(r, appended.duplicate))
          })
          yield* dedup.remember(remembered)
          return events.map((event, i) => {
            const prior = known.get(event.messageId)
            if (prior !== undefined) return accepted(prior, true)
            const outcome = outcomes.get(event.messageId)!
            return firstIndex.get(event.messageId) === i || outcome._tag !== "Accepted" ? outcome : { ...outcome, duplicate: true }
          })
        })
    }
  })
)
