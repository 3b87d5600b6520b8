import { RuleSetPublished, UserEvent } from "@nudge/domain"
import { EventStore, Position, type RecordedEvent } from "@nudge/event-store"
import { StateStore, TimerStore } from "@nudge/state"
import { Chunk, Deferred, Effect, Either, Fiber, Stream } from "effect"
import * as ActiveRules from "./ActiveRules.js"
import { type ActorError, type Derived, UserActors } from "./UserActors.js"

export const checkpointKey = "checkpoint:actors"
const pageSize = 2048
const coalesceBelow = 1024
const coalesceMs = 1

/** A user idle for `passivateAfterMs` goes within a quarter more of it (and at most 30 s more). */
const sweepInterval = (passivateAfterMs: number) => Math.min(Math.max(passivateAfterMs / 4, 10), 30_000)

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
 * restart redoes what the checkpoint had not reached and doubles nothing.
 *
 * A chunk's decisions are appended, and what it leaves (snapshots, the
 * firing index) written with its checkpoint, while the next chunk is
 * decided, so the database thread and this one work side by side. One
 * chunk's appends are in flight at a time, in order; each chunk's writes
 * follow its appends and the previous chunk's writes; a failed write stops
 * the router like any failure. Until a write lands, a user it passivates
 * reactivates from its older snapshot and the log, which decide the same;
 * users with decisions still in flight are neither snapshotted nor passivated.
 */
export const run = Effect.gen(function* () {
  const store = yield* EventStore
  const state = yield* StateStore
  const actors = yield* UserActors
  const timers = yield* TimerStore
  yield* actors.forgetAll
  const saved = (yield* state.get([checkpointKey])).get(checkpointKey)
  const checkpoint = saved === undefined ? Position.start : (Position.parse(saved) ?? Position.start)
  const published = yield* store.read(RuleSetPublished.stream)
  const inForce = published.filter((e) => Position.compare(e.position, checkpoint) <= 0).at(-1)
  // Set even when none is: a router restarted after a failure must not keep the rules its last run had reached.
  yield* actors.setRules(inForce === undefined ? ActiveRules.none : (rulesOf(inForce) ?? ActiveRules.none))

  // A live router may wait long for its next chunk: a failed write stops it at once, not then.
  const writeFailed = yield* Deferred.make<never, ActorError>()
  // Deciding a batch and completing the one before it both change the live users: never at the same time.
  const deciding = yield* Effect.makeSemaphore(1)

  /**
   * A batch's appends, its completion and the removal of the timers it cancelled: the next batch commits after
   * them, since it may schedule a timer under a key cancelled here and must find it gone first.
   */
  let committing: Fiber.Fiber<Derived, ActorError> | undefined
  /**
   * What the last two batches leave (snapshots, the firing index) and the checkpoint they reached, written in
   * order. A batch waits for the write of the one two before it, so writes slower than deciding cannot pile up.
   */
  let writing: Fiber.Fiber<void, ActorError> | undefined
  let wrote: Fiber.Fiber<void, ActorError> | undefined
  const joined = <A>(fiber: Fiber.Fiber<A, ActorError> | undefined) => (fiber === undefined ? Effect.void : Effect.asVoid(Fiber.join(fiber)))
  const settled = Effect.suspend(() => Effect.zipRight(joined(committing), joined(writing)))

  /**
   * Decides `events` while the previous batch is appended and written (the writer thread and this one work side
   * by side: a router trailing the log otherwise waited a third of its time for its appends), then commits them
   * once that batch is committed. Its snapshots and checkpoint are written after it, and after the previous
   * batch's: the next commit does not wait for them (one database round trip less per batch on this thread).
   */
  const step = (events: ReadonlyArray<RecordedEvent>, checkpoint: Position | undefined) =>
    Effect.gen(function* () {
      const batch = yield* deciding.withPermits(1)(actors.begin(events))
      yield* joined(committing)
      yield* joined(wrote)
      const committed = yield* Effect.fork(
        batch.commit.pipe(
          Effect.flatMap((complete) => deciding.withPermits(1)(complete)),
          Effect.tap((derived) => timers.remove(derived.cancelledTimers)),
          Effect.tapError((e) => Deferred.fail(writeFailed, e))
        )
      )
      const previous = writing
      committing = committed
      wrote = previous
      writing = yield* Effect.fork(
        Fiber.join(committed).pipe(
          Effect.zipLeft(joined(previous)),
          Effect.flatMap(({ state: entries }) =>
            checkpoint === undefined && entries.length === 0
              ? Effect.void
              : state.set(checkpoint === undefined ? entries : [...entries, [checkpointKey, Position.format(checkpoint)]])
          ),
          Effect.tapError((e) => Deferred.fail(writeFailed, e))
        )
      )
    })

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
        yield* step(pending, undefined)
        pending = []
        yield* actors.setRules(rules)
      }
      const last = Chunk.last(chunk)
      yield* step(pending, last._tag === "Some" ? last.value.position : undefined)
      // A small chunk means the router is live: let the next few commits gather, since each chunk has a fixed cost.
      // One millisecond: at 2,000 Track/s it cost no more CPU than five (bench:e2e), and it takes 3 ms off the
      // median firing at 200/s; not pausing at all cost more CPU and latency.
      if (chunk.length < coalesceBelow) yield* Effect.sleep(coalesceMs)
    })

  /**
   * Idle users are passivated as chunks come; a quiet log still gets an empty chunk now and then for that, from a
   * fiber of its own that takes turns with the log's chunks. Not `Stream.merge`: merging cost about 80 µs of CPU a
   * chunk, and a live router handles hundreds of chunks a second.
   */
  const turns = yield* Effect.makeSemaphore(1)
  const inTurn = (chunk: Chunk.Chunk<RecordedEvent>) => turns.withPermits(1)(handleChunk(chunk))
  const sweeps = Effect.forever(Effect.zipRight(Effect.sleep(sweepInterval(actors.options.passivateAfterMs)), inTurn(Chunk.empty())))
  yield* store
    .subscribeAll({ after: checkpoint, streamPrefixes: [UserEvent.streamPrefix, RuleSetPublished.stream], maxCount: pageSize })
    .pipe(
      Stream.chunks,
      Stream.runForEach(inTurn),
      Effect.zipLeft(settled),
      Effect.raceFirst(sweeps),
      Effect.raceFirst(Deferred.await(writeFailed))
    )
})
