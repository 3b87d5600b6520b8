import { type AppendError, type AppendRequest, type AppendResult, EventStore, type StoreUnavailable } from "@nudge/event-store"
import { Context, Deferred, Effect, Exit, Layer, Queue } from "effect"

interface Job {
  readonly requests: ReadonlyArray<AppendRequest>
  readonly done: Deferred.Deferred<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
}

/**
 * Group commit: appends from all concurrent calls are queued and written by
 * one fiber, as many as are waiting in one store transaction, because a
 * durable commit costs about the same for one event as for a thousand. The
 * bounded queue is the backpressure: when the store is slow, callers wait.
 */
export class Appender extends Context.Tag("@nudge/ingest/Appender")<
  Appender,
  {
    readonly append: (
      requests: ReadonlyArray<AppendRequest>
    ) => Effect.Effect<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
  }
>() {}

const MaxJobsPerCommit = 64

export const layer = Layer.scoped(
  Appender,
  Effect.gen(function* () {
    const store = yield* EventStore
    const queue = yield* Queue.bounded<Job>(256)
    const commit = Effect.gen(function* () {
      const jobs = yield* Queue.takeBetween(queue, 1, MaxJobsPerCommit)
      const requests = Array.from(jobs).flatMap((j) => j.requests)
      const exit = yield* Effect.exit(store.appendMany(requests))
      let offset = 0
      for (const job of jobs) {
        const n = job.requests.length
        const start = offset
        yield* Deferred.done(job.done, Exit.map(exit, (results) => results.slice(start, start + n)))
        offset += n
      }
    })
    yield* Effect.forkScoped(Effect.forever(commit))
    return {
      append: (requests) =>
        Effect.gen(function* () {
          const done = yield* Deferred.make<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>()
          yield* Queue.offer(queue, { requests, done })
          return yield* Deferred.await(done)
        })
    }
  })
)
