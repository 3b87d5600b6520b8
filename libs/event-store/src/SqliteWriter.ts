import { Effect, Schema } from "effect"
import { Worker } from "node:worker_threads"
import { DatabaseUnavailable } from "./DatabaseUnavailable.js"
import { type AppendError, type AppendResult, type ExpectedRevision, StoreUnavailable } from "./EventStore.js"
import type { LocalAppend, StreamStatus } from "./internal/LocalLog.js"
import type { EncodedEvent } from "./internal/SqliteLog.js"
import {
  AppendErrorWire,
  type Statement,
  type WriterConfig,
  type WriterReply,
  type WriterRequest,
  type WriterStartup
} from "./internal/WriterProtocol.js"

export type { Statement } from "./internal/WriterProtocol.js"

/**
 * This thread's handle on the embedded database's writer thread. Requests
 * are answered in the order they were sent, each a transaction of its own.
 */
export interface SqliteWriter {
  readonly append: (
    requests: ReadonlyArray<LocalAppend<EncodedEvent>>,
    created: number
  ) => Effect.Effect<ReadonlyArray<AppendResult | AppendError>, StoreUnavailable>
  readonly remove: (stream: string, expected: ExpectedRevision, status: StreamStatus) => Effect.Effect<AppendError | undefined, StoreUnavailable>
  /** `durable: false` skips the fsync for what can be rebuilt from the log (see the writer thread). */
  readonly run: (statements: ReadonlyArray<Statement>, options: { readonly durable: boolean }) => Effect.Effect<void, StoreUnavailable>
}

type Pending = (reply: WriterReply) => void

const decodeError = Schema.decodeUnknownSync(AppendErrorWire)

const isEncodedError = (value: unknown): value is { readonly _tag: string } =>
  typeof value === "object" && value !== null && "_tag" in value

export const start = (config: WriterConfig) =>
  Effect.acquireRelease(
    Effect.async<Worker, DatabaseUnavailable>((resume) => {
      const worker = new Worker(new URL("./internal/writerThread.mjs", import.meta.url), { workerData: config })
      const failed = (reason: string) => resume(Effect.fail(new DatabaseUnavailable({ filename: config.filename, reason })))
      worker.once("error", (e) => failed(String(e)))
      worker.once("message", (startup: WriterStartup) => {
        worker.removeAllListeners("error")
        if (startup.ready) resume(Effect.succeed(worker))
        else void worker.terminate().then(() => failed(startup.reason))
      })
    }),
    (worker) =>
      Effect.async<void>((resume) => {
        worker.once("exit", () => resume(Effect.void))
        worker.postMessage({ id: 0, op: "close" } satisfies WriterRequest)
      })
  ).pipe(
    Effect.map((worker): SqliteWriter => {
      const pending = new Map<number, Pending>()
      let next = 1
      let stopped: string | undefined
      const stop = (reason: string) => {
        stopped = reason
        for (const answer of pending.values()) answer({ id: 0, ok: false, reason })
        pending.clear()
      }
      worker.on("message", (reply: WriterReply) => {
        const answer = pending.get(reply.id)
        pending.delete(reply.id)
        answer?.(reply)
      })
      worker.on("error", (e) => stop(`writer thread failed: ${String(e)}`))
      worker.on("exit", () => stop("writer thread stopped"))
      const request = <A>(make: (id: number) => WriterRequest, decode: (value: unknown) => A) =>
        Effect.async<A, StoreUnavailable>((resume) => {
          if (stopped !== undefined) return resume(Effect.fail(new StoreUnavailable({ reason: stopped })))
          const id = next++
          pending.set(id, (reply) =>
            resume(reply.ok ? Effect.sync(() => decode(reply.value)) : Effect.fail(new StoreUnavailable({ reason: reply.reason })))
          )
          worker.postMessage(make(id))
        })
      const decodeResult = (value: unknown): AppendResult | AppendError =>
        isEncodedError(value) ? decodeError(value) : (value as AppendResult)
      return {
        append: (requests, created) =>
          request((id) => ({ id, op: "append", requests, created }), (value) => (value as ReadonlyArray<unknown>).map(decodeResult)),
        remove: (stream, expected, status) =>
          request(
            (id) => ({ id, op: "remove", stream, expected, status }),
            (value) => (value === undefined ? undefined : (decodeError(value) as AppendError))
          ),
        run: (statements, { durable }) => request((id) => ({ id, op: "run", statements, durable }), () => undefined)
      }
    })
  )
