import { Effect, Queue } from "effect"
import { Worker } from "node:worker_threads"
import { DatabaseUnavailable } from "./DatabaseUnavailable.js"
import type { CheckpointerConfig } from "./internal/CheckpointerConfig.js"

export type { CheckpointerConfig } from "./internal/CheckpointerConfig.js"

type Message = { readonly ready: true } | { readonly failed: string }

/**
 * Runs the embedded database's WAL checkpoints on a thread of their own for
 * as long as the scope lasts. A failed round is logged (once while it keeps
 * failing the same way) and the next one tried; should the thread stop,
 * that is logged too, and the writer's own automatic checkpoint (at a
 * larger size) still keeps the WAL bounded.
 */
export const start = (config: CheckpointerConfig) =>
  Effect.gen(function* () {
    const failures = yield* Queue.unbounded<string>()
    yield* Effect.acquireRelease(
      Effect.async<Effect.Effect<void>, DatabaseUnavailable>((resume) => {
        const worker = new Worker(new URL("./internal/checkpointerThread.mjs", import.meta.url), { workerData: config })
        let started = false
        let exited = false
        let closing = false
        let failure = "checkpointer thread stopped before it started"
        const stop = Effect.async<void>((stopped) => {
          if (exited) return stopped(Effect.void)
          closing = true
          worker.once("exit", () => stopped(Effect.void))
          worker.postMessage("close")
        })
        worker.on("message", (message: Message) => {
          if ("failed" in message) return void Queue.unsafeOffer(failures, message.failed)
          started = true
          resume(Effect.succeed(stop))
        })
        // An error event is followed by the exit: before the start, the exit reports it.
        worker.on("error", (e) => {
          if (started) Queue.unsafeOffer(failures, `checkpointer thread failed: ${String(e)}`)
          else failure = String(e)
        })
        worker.once("exit", () => {
          exited = true
          if (!started) resume(Effect.fail(new DatabaseUnavailable({ filename: config.filename, reason: failure })))
          else if (!closing) Queue.unsafeOffer(failures, "checkpointer thread stopped")
        })
      }),
      (stop) => stop
    )
    yield* Queue.take(failures).pipe(
      Effect.flatMap((reason) => Effect.logWarning(`WAL checkpoint of ${config.filename} failed: ${reason}`)),
      Effect.forever,
      Effect.forkScoped
    )
  })
