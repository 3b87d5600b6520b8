import { IngestServiceClient } from "@nudge/proto"
import type { TrackRequest, TrackStreamResponse } from "@nudge/proto"
import { Chunk, Clock, Effect, Either, Stream } from "effect"
import { createReadStream } from "node:fs"
import { stat } from "node:fs/promises"
import { createInterface } from "node:readline"
import { InputError } from "../CliError.js"
import * as LoadSummary from "../LoadSummary.js"
import * as NdjsonEvent from "../NdjsonEvent.js"
import * as Rpc from "../internal/Rpc.js"
import * as Timestamps from "../internal/Timestamps.js"

export interface LoadOptions {
  /** Lines per TrackStream call: a crash loses at most one unacknowledged batch. */
  readonly batchSize: number
  readonly onProgress?: (progress: LoadProgress) => void
}

export interface LoadProgress {
  readonly summary: LoadSummary.LoadSummary
  readonly bytesRead: number
  readonly totalBytes: number
}

interface NumberedLine {
  readonly text: string
  readonly number: number
}

/**
 * The file's non-blank lines, read on demand: readline pauses the file
 * stream while lines wait to be consumed, so memory stays flat for any size.
 */
const openLines = (path: string) =>
  Effect.gen(function* () {
    const { size } = yield* Effect.tryPromise({ try: () => stat(path), catch: (cause) => InputError.fromCause(path, cause) })
    const file = createReadStream(path)
    const reader = yield* Effect.acquireRelease(
      Effect.sync(() => createInterface({ input: file, crlfDelay: Infinity })),
      (reader) => Effect.sync(() => {
        reader.close()
        file.destroy()
      })
    )
    const lines = Stream.fromAsyncIterable(reader, (cause) => InputError.fromCause(path, cause)).pipe(
      Stream.zipWithIndex,
      Stream.map(([text, index]): NumberedLine => ({ text, number: index + 1 })),
      Stream.filter((line) => line.text.trim() !== "")
    )
    return { lines, totalBytes: size, bytesRead: () => file.bytesRead }
  })

const sendBatch = (client: IngestServiceClient, batch: Chunk.Chunk<NumberedLine>) =>
  Effect.gen(function* () {
    const sentAt = yield* Timestamps.now
    const requests: Array<TrackRequest> = []
    const localRejections: Array<LoadSummary.Rejection> = []
    const lineOf = new Map<string, number>()
    for (const line of batch) {
      Either.match(NdjsonEvent.parseLine(line.text), {
        onLeft: (reason) => localRejections.push({ line: line.number, messageId: undefined, reason }),
        onRight: (request) => {
          requests.push({ ...request, sentAt })
          if (!lineOf.has(request.messageId)) lineOf.set(request.messageId, line.number)
        }
      })
    }
    const response = requests.length === 0
      ? undefined
      : yield* Rpc.clientStreaming<TrackRequest, TrackStreamResponse>((callback) => client.trackStream(callback), requests)
    return { lines: batch.length, localRejections, response, lineOf }
  })

/** Streams an NDJSON file of track events to the engine, one TrackStream call per batch. */
export const load = Effect.fn("Load.load")(function* (address: string, path: string, options: LoadOptions) {
  const client = yield* Rpc.connect(IngestServiceClient, address)
  const input = yield* openLines(path)
  const startedAt = yield* Clock.currentTimeMillis
  return yield* input.lines.pipe(
    Stream.grouped(options.batchSize),
    Stream.runFoldEffect(LoadSummary.empty, (summary, batch) =>
      Effect.gen(function* () {
        const outcome = yield* sendBatch(client, batch)
        const now = yield* Clock.currentTimeMillis
        const next = LoadSummary.addBatch(summary, outcome, now - startedAt)
        options.onProgress?.({ summary: next, bytesRead: input.bytesRead(), totalBytes: input.totalBytes })
        return next
      })
    )
  )
}, Effect.scoped)
