import { Effect, Schema } from "effect"
import { Worker } from "node:worker_threads"
import { DatabaseUnavailable } from "./DatabaseUnavailable.js"
import { type AppendError, type AppendResult, type ExpectedRevision, StoreUnavailable } from "./EventStore.js"
import type { LocalAppend, StreamStatus } from "./internal/LocalLog.js"
import type { EncodedEvent } from "./internal/SqliteLog.js"
import {
  AppendErrorWire,
  type FlatResults,
  flattenAppends,
  type Statement,
  type WriterConfig,
  type WriterReply,
  type WriterRequest,
  type WriterStartup,
  unflattenResults
} from "./internal/WriterProtocol.js"

export type { Statement } from "./internal/WriterProtocol.js"

/**
 * This thread's handle on the embedded database's writer thread. Requests
 * are answered in the order they were sent, each a transaction of its own.
 * The optional callbacks run as a reply arrives, before any later reply is
 * handled, so whoever keeps a copy of the log (the recent tail) sees commits
 * in commit order whatever becomes of the requesting fiber.
 */
export interface SqliteWriter {
  readonly append: (
    requests: ReadonlyArray<LocalAppend<EncodedEvent>>,
    created: number,
    committed?: (results: ReadonlyArray<AppendResult | AppendError>) => void
  ) => Effect.Effect<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
  readonly remove: (
    stream: string,
    expected: ExpectedRevision,
    status: StreamStatus,
    removed?: () => void
  ) => Effect.Effect<AppendError | undefined, StoreUnavailable>
  /** `durable: false` skips the fsync for what can be rebuilt from the log (see the writer thread). */
  readonly run: (statements: ReadonlyArray<Statement>, options: { readonly durable: boolean }) => Effect.Effect<void, StoreUnavailable>
}

const decodeError = Schema.decodeUnknownSync(AppendErrorWire)

interface Thread {
  readonly worker: Worker
  readonly exited: () => boolean
  readonly writer: SqliteWriter
}

/**
 * Starts the thread and wires every listener at once, so no error or exit
 * goes unheard. Should the thread die, every pending and later request
 * fails with StoreUnavailable (UNAVAILABLE at the edge).
 */
const spawn = (config: WriterConfig, ready: (error?: string) => void): Thread => {
  const worker = new Worker(new URL("./internal/writerThread.mjs", import.meta.url), { workerData: config })
  const pending = new Map<number, (reply: WriterReply) => void>()
  let next = 1
  let started = false
  let stopped: string | undefined
  let exited = false
  const stop = (reason: string) => {
    stopped ??= reason
    if (!started) {
      started = true
      ready(reason)
    }
    for (const answer of pending.values()) answer({ id: 0, ok: false, reason: stopped })
    pending.clear()
  }
  worker.on("message", (message: WriterReply | WriterStartup) => {
    if (!started) {
      started = true
      const startup = message as WriterStartup
      return ready(startup.ready ? undefined : startup.reason)
    }
    const reply = message as WriterReply
    const answer = pending.get(reply.id)
    pending.delete(reply.id)
    answer?.(reply)
  })
  worker.on("error", (e) => stop(`writer thread failed: ${String(e)}`))
  worker.on("exit", () => {
    exited = true
    stop("writer thread stopped")
  })

  const request = <A>(make: (id: number) => WriterRequest, decode: (value: unknown) => A) =>
    Effect.async<A, StoreUnavailable>((resume) => {
      if (stopped !== undefined) return resume(Effect.fail(new StoreUnavailable({ reason: stopped })))
      const id = next++
      pending.set(id, (reply) => {
        if (!reply.ok) return resume(Effect.fail(new StoreUnavailable({ reason: reply.reason })))
        try {
          resume(Effect.succeed(decode(reply.value)))
        } catch (e) {
          resume(Effect.die(e))
        }
      })
      worker.postMessage(make(id))
    })

  const writer: SqliteWriter = {
    append: (requests, created, committed) =>
      request(
        (id) => ({ id, op: "append", requests: flattenAppends(requests), created }),
        (value) => {
          const results = unflattenResults(value as FlatResults, requests, decodeError)
          committed?.(results)
          return results
        }
      ),
    remove: (stream, expected, status, removed) =>
      request(
        (id) => ({ id, op: "remove", stream, expected, status }),
        (value) => {
          removed?.()
          return value === undefined ? undefined : (decodeError(value) as AppendError)
        }
      ),
    run: (statements, { durable }) => request((id) => ({ id, op: "run", statements, durable }), () => undefined)
  }
  return { worker, exited: () => exited, writer }
}

export const start = (config: WriterConfig) =>
  Effect.acquireRelease(
    Effect.async<Thread, DatabaseUnavailable>((resume) => {
      const thread = spawn(config, (error) =>
        error === undefined
          ? resume(Effect.succeed(thread))
          : void thread.worker.terminate().then(() => resume(Effect.fail(new DatabaseUnavailable({ filename: config.filename, reason: error }))))
      )
    }),
    (thread) =>
      thread.exited()
        ? Effect.void
        : Effect.async<void>((resume) => {
            thread.worker.once("exit", () => resume(Effect.void))
            thread.worker.postMessage({ id: 0, op: "close" } satisfies WriterRequest)
          })
  ).pipe(Effect.map((thread) => thread.writer))
