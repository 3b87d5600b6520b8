import { Deferred, Effect, Exit, Layer, Queue } from "effect"
import { type AppendError, type AppendRequest, type AppendResult, EventStore, type StoreUnavailable } from "./EventStore.js"

interface Job {
  readonly requests: ReadonlyArray<AppendRequest>
  readonly done: Deferred.Deferred<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
}

const MaxJobsPerCommit = 64
const LingerBelow = 256

/** Wall-clock on purpose: a performance pause, not domain time, so a test clock must not hold it. */
const linger = Effect.async<void>((resume) => {
  const timer = setTimeout(() => resume(Effect.void), 1)
  return Effect.sync(() => clearTimeout(timer))
})

/**
 * Group commit in front of any store: appends from every caller (ingestion,
 * the actors' decisions, timers) queue up and one fiber writes as many as
 * are waiting in one `appendMany`, because a durable commit costs about the
 * same for one event as for a thousand. The bounded queue is backpressure:
 * when the store is slow, callers wait.
 */
export const layer = Layer.scoped(
  EventStore,
  Effect.gen(function* () {
    const store = yield* EventStore
    const queue = yield* Queue.bounded<Job>(256)
    const commit = Effect.gen(function* () {
      const first = Array.from(yield* Queue.takeBetween(queue, 1, MaxJobsPerCommit))
      // A commit costs about one page write per row and index touched, whatever its size: when few appends are
      // waiting, waiting a moment for more makes the commits fewer and fuller (the fsync itself is ~0.2 ms here).
      // A lone caller pays the pause too (unary p50 0.7 → 2 ms): waiting only when appends queued up during the last
      // commit missed most of the load at 2,000 Track/s, and decisions fell seconds behind.
      const late =
        first.length < MaxJobsPerCommit && first.reduce((n, j) => n + j.requests.length, 0) < LingerBelow
          ? yield* Effect.zipRight(linger, Queue.takeUpTo(queue, MaxJobsPerCommit - first.length))
          : []
      const jobs = [...first, ...late]
      const requests = jobs.flatMap((j) => j.requests)
      // Suspended, so a store that throws instead of failing (a defect) fails these jobs alone: were the loop to die,
      // these callers and every later one would wait forever.
      const exit = yield* Effect.exit(Effect.suspend(() => store.appendMany(requests)))
      let offset = 0
      for (const job of jobs) {
        const start = offset
        offset += job.requests.length
        yield* Deferred.done(job.done, Exit.map(exit, (results) => results.slice(start, offset)))
      }
    })
    yield* Effect.forkScoped(Effect.forever(commit))
    const appendMany = (requests: ReadonlyArray<AppendRequest>) =>
      Effect.gen(function* () {
        const done = yield* Deferred.make<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>()
        yield* Queue.offer(queue, { requests, done })
        return yield* Deferred.await(done)
      })
    return EventStore.of({
      ...store,
      appendMany,
      append: (stream, events, expected) =>
        appendMany([{ stream, events, expected }]).pipe(
          Effect.flatMap(([result]) => ("_tag" in result! ? Effect.fail(result) : Effect.succeed(result!)))
        )
    })
  })
)
