import { assert, describe, it } from "@effect/vitest"
import { EventId } from "@nudge/domain"
import { Effect } from "effect"
import { startEngine, stopProcess } from "../src/EngineProcess.js"
import { ingestClient, request } from "./support/Clients.js"
import * as StoredLog from "./support/StoredLog.js"
import * as TestEngine from "./support/TestEngine.js"

const storedIds = (dataDir: string) => Effect.runPromise(Effect.map(StoredLog.read(dataDir), (events) => events.map((e) => e.id)))

describe("engine crash safety (real child process)", () => {
  it("keeps every acknowledged TrackStream event exactly once across a SIGKILL mid-load", { timeout: 120_000 }, async () => {
    const dataDir = TestEngine.tempDir()
    const batches = Array.from({ length: 40 }, (_, b) =>
      Array.from({ length: 500 }, (_, i) => request({ messageId: `crash-${b}-${i}`, userId: `u-${(b * 500 + i) % 97}` }))
    )
    const first = await startEngine({ NUDGE_DATA_DIR: dataDir })
    const client = ingestClient(first.port)
    const acknowledged: Array<number> = []
    let killed = false
    // Two producers send batches until the engine dies under them.
    await Promise.all(
      [0, 1].map(async (lane) => {
        for (let b = lane; b < batches.length && !killed; b += 2) {
          const result = await client.trackStream(batches[b]!)
          if (!result.ok) break
          acknowledged.push(b)
          if (acknowledged.length === 6 && !killed) {
            killed = true
            first.child.kill("SIGKILL")
          }
        }
      })
    )
    client.close()
    await stopProcess(first.child)
    assert.isAtLeast(acknowledged.length, 6)
    assert.isBelow(acknowledged.length, batches.length, "the kill happened mid-load")

    const afterCrash = await storedIds(dataDir)
    assert.strictEqual(new Set(afterCrash).size, afterCrash.length, "no event stored twice")
    const stored = new Set(afterCrash)
    for (const b of acknowledged) {
      for (const r of batches[b]!) assert.isTrue(stored.has(EventId.forMessage(r.messageId)), `acknowledged ${r.messageId} is stored`)
    }

    // The producer retries everything: what was stored is a duplicate, the rest is accepted, nothing doubles.
    const second = await startEngine({ NUDGE_DATA_DIR: dataDir })
    const retry = ingestClient(second.port)
    let accepted = 0
    let duplicates = 0
    for (const batch of batches) {
      const result = await retry.trackStream(batch)
      assert.isTrue(result.ok)
      if (result.ok) {
        accepted += result.value.accepted
        duplicates += result.value.duplicates
      }
    }
    retry.close()
    await stopProcess(second.child)
    assert.strictEqual(duplicates, afterCrash.length)
    assert.strictEqual(accepted + duplicates, 40 * 500)
    const final = await storedIds(dataDir)
    assert.strictEqual(final.length, 40 * 500)
    assert.strictEqual(new Set(final).size, final.length)
  })

  it("stops cleanly on SIGTERM, and refuses a bad or taken address with a clear message", { timeout: 60_000 }, async () => {
    const dataDir = TestEngine.tempDir()
    const engine = await startEngine({ NUDGE_DATA_DIR: dataDir })
    const second = await startEngine({ NUDGE_DATA_DIR: TestEngine.tempDir(), NUDGE_GRPC_ADDRESS: `127.0.0.1:${engine.port}` }).then(
      () => "started",
      (e: Error) => e.message
    )
    assert.match(second, /cannot listen on 127\.0\.0\.1:\d+/, "a second engine on a taken address fails instead of sharing it")
    await stopProcess(engine.child, "SIGTERM")
    assert.strictEqual(engine.child.exitCode, 0)
    assert.match(engine.output(), /Nudge engine stopped/)
    const failed = await startEngine({ NUDGE_DATA_DIR: dataDir, NUDGE_GRPC_ADDRESS: "nowhere" }).then(
      () => "started",
      (e: Error) => e.message
    )
    assert.match(failed, /NUDGE_GRPC_ADDRESS.*expected host:port/s)
  })
})
