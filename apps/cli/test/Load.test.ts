import { status } from "@grpc/grpc-js"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Load, LoadSummary } from "../src/index.js"
import * as FakeEngine from "./FakeEngine.js"
import * as TempFile from "./TempFile.js"

/**
 * 2,500 messages in both key spellings, with a blank line to skip, every
 * 97th line broken JSON, every 250th named with the reserved "$" prefix
 * (the engine rejects those) and the last 100 repeating the message ids of
 * the first 100.
 */
const generateLoadFile = () => {
  const lines: Array<string> = []
  const sentIds: Array<string> = []
  const brokenLines: Array<number> = []
  for (let i = 1; i <= 2500; i++) {
    if (i === 1501) lines.push("")
    const messageId = `m-${i > 2400 ? i - 2400 : i}`
    const userId = `u-${i % 40}`
    const name = i % 250 === 0 ? "$internal" : "Viewed Page"
    const line = i % 2 === 0
      ? { messageId, userId, name, occurredAt: "2024-05-01T10:00:00Z", properties: { page: i } }
      : { message_id: messageId, user_id: userId, name, occurred_at: 1714557600000 + i, context: { source: "test" } }
    if (i % 97 === 0) {
      lines.push(JSON.stringify(line).slice(0, -1))
      brokenLines.push(lines.length)
    } else {
      lines.push(JSON.stringify(line))
      sentIds.push(messageId)
    }
  }
  return { contents: `${lines.join("\n")}\n`, sentIds, brokenLines }
}

const sum = (responses: ReadonlyArray<{ accepted: number; duplicates: number; rejected: number }>) =>
  responses.reduce(
    (total, r) => ({
      accepted: total.accepted + r.accepted,
      duplicates: total.duplicates + r.duplicates,
      rejected: total.rejected + r.rejected
    }),
    { accepted: 0, duplicates: 0, rejected: 0 }
  )

describe("Load", () => {
  it.scopedLive("streams the file in batches, one TrackStream call each, in file order", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      const { brokenLines, contents, sentIds } = generateLoadFile()
      const path = yield* TempFile.make("events.ndjson", contents)
      const progress: Array<Load.LoadProgress> = []

      const summary = yield* Load.load(engine.address, path, { batchSize: 1000, onProgress: (p) => progress.push(p) })

      assert.strictEqual(engine.streamCalls.length, 3)
      assert.deepStrictEqual(engine.streamCalls.flat().map((r) => r.messageId), sentIds)
      assert.isTrue(engine.streamCalls.flat().every((r) => r.sentAt !== undefined))
      const fromEngine = sum(engine.streamResponses)
      assert.strictEqual(summary.lines, 2500)
      assert.strictEqual(summary.calls, 3)
      assert.strictEqual(summary.accepted, fromEngine.accepted)
      assert.strictEqual(summary.duplicates, fromEngine.duplicates)
      assert.strictEqual(summary.rejected, fromEngine.rejected + brokenLines.length)
      assert.strictEqual(summary.accepted + summary.duplicates + summary.rejected, 2500)
      assert.isAbove(summary.duplicates, 0)
      assert.isAbove(fromEngine.rejected, 0)

      assert.strictEqual(summary.rejections.length, LoadSummary.maxRejectionsKept)
      assert.strictEqual(summary.rejections[0]!.line, 97)
      assert.isUndefined(summary.rejections[0]!.messageId)
      assert.match(summary.rejections[0]!.reason, /^not valid JSON/)
      const engineRejection = summary.rejections.find((r) => r.messageId !== undefined)!
      assert.deepStrictEqual(engineRejection, { line: 250, messageId: "m-250", reason: "name: the $ prefix is reserved" })

      assert.deepStrictEqual(progress.map((p) => p.summary.lines), [1000, 2000, 2500])
      assert.strictEqual(progress[2]!.bytesRead, progress[2]!.totalBytes)
    }))

  it.scopedLive("a second run of the same file stores nothing new", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      const path = yield* TempFile.make("events.ndjson", generateLoadFile().contents)

      const first = yield* Load.load(engine.address, path, { batchSize: 1000 })
      const second = yield* Load.load(engine.address, path, { batchSize: 1000 })

      assert.strictEqual(engine.streamCalls.length, 6)
      assert.strictEqual(second.accepted, 0)
      assert.strictEqual(second.duplicates, first.accepted + first.duplicates)
      assert.strictEqual(second.rejected, first.rejected)
    }))

  it.scopedLive("makes no call for a batch with nothing to send", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      const path = yield* TempFile.make("broken.ndjson", "{\nnot json\n\n")

      const summary = yield* Load.load(engine.address, path, { batchSize: 1000 })

      assert.strictEqual(engine.streamCalls.length, 0)
      assert.deepStrictEqual(
        [summary.lines, summary.calls, summary.rejected, summary.rejections.map((r) => r.line)],
        [2, 0, 2, [1, 2]]
      )
    }))

  it.scopedLive("fails with the call's status when the engine refuses a batch", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      engine.failure = { code: status.UNAVAILABLE, details: "store is read-only" }
      const path = yield* TempFile.make("events.ndjson", generateLoadFile().contents)

      const error = yield* Effect.flip(Load.load(engine.address, path, { batchSize: 1000 }))

      assert.deepStrictEqual([error._tag, engine.streamCalls.length], ["RpcError", 1])
      assert.isTrue(error._tag === "RpcError" && error.status === "UNAVAILABLE" && error.details === "store is read-only")
    }))

  it.scopedLive("fails with an InputError when the file cannot be read", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()

      const error = yield* Effect.flip(Load.load(engine.address, "/nonexistent/events.ndjson", { batchSize: 10 }))

      assert.strictEqual(error._tag, "InputError")
      assert.strictEqual(engine.streamCalls.length, 0)
    }))
})
