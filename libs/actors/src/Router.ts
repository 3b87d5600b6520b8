import { RuleSetPublished, UserEvent } from "@nudge/domain"
import { EventStore, Position, type RecordedEvent } from "@nudge/event-store"
import { StateStore } from "@nudge/state"
import { Chunk, Effect, Either, Stream } from "effect"
import * as ActiveRules from "./ActiveRules.js"
import { UserActors } from "./UserActors.js"

export const checkpointKey = "checkpoint:actors"
const pageSize = 2048
const coalesceBelow = 1024
const coalesceMs = 5

const rulesOf = (e: RecordedEvent) => {
  const decoded = RuleSetPublished.decode(e.type, e.data)
  return Either.isRight(decoded)
    ? ActiveRules.fromPublished(decoded.right.version, decoded.right.text, decoded.right.format)
    : undefined
}

/**
 * Follows the global log from the durable checkpoint (catch-up, then live)
 * and hands user events to their actors; a published rule set takes effect
 * exactly at its place in the log. The checkpoint moves only after every
 * decision of a chunk is stored, and decisions have deterministic ids, so a
 * restart redoes at most one chunk and doubles nothing.
 */
export const run = Effect.gen(function* () {
  const store = yield* EventStore
  const state = yield* StateStore
  const actors = yield* UserActors
  const saved = (yield* state.get([checkpointKey])).get(checkpointKey)
  const checkpoint = saved === undefined ? Position.start : (Position.parse(saved) ?? Position.start)
  const published = yield* store.read(RuleSetPublished.stream)
  const inForce = published.filter((e) => Position.compare(e.position, checkpoint) <= 0).at(-1)
  if (inForce !== undefined) yield* actors.setRules(rulesOf(inForce) ?? ActiveRules.none)

  const handleChunk = (chunk: Chunk.Chunk<RecordedEvent>) =>
    Effect.gen(function* () {
      let pending: Array<RecordedEvent> = []
      for (const e of chunk) {
        if (e.stream.startsWith(UserEvent.streamPrefix)) {
          pending.push(e)
          continue
        }
        const rules = rulesOf(e)
        if (rules === undefined) continue
        yield* actors.handle(pending)
        pending = []
        yield* actors.setRules(rules)
      }
      yield* actors.handle(pending)
      const last = Chunk.last(chunk)
      if (last._tag === "Some") yield* state.set([[checkpointKey, Position.format(last.value.position)]])
      // A small chunk means the router is live: let the next few commits gather, since each chunk has a fixed cost.
      if (chunk.length < coalesceBelow) yield* Effect.sleep(coalesceMs)
    })

  yield* store
    .subscribeAll({ after: checkpoint, streamPrefixes: [UserEvent.streamPrefix, RuleSetPublished.stream], maxCount: pageSize })
    .pipe(Stream.runForEachChunk(handleChunk))
})
