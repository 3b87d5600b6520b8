import { assert, describe, it } from "@effect/vitest"
import { startEngine, stopProcess } from "@nudge/engine/EngineProcess"
import { Chunk, Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Ingest, Load, Tail } from "../src/index.js"

/** The CLI against a real engine process: what it sends is there after the engine restarts. */
describe("nudge CLI against the engine", () => {
  it("tracks and loads events that a restarted engine still has, once each", { timeout: 120_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "nudge-cli-e2e-"))
    const file = path.join(dataDir, "events.ndjson")
    fs.writeFileSync(
      file,
      Array.from({ length: 300 }, (_, i) => JSON.stringify({ messageId: `line-${i}`, userId: `u-${i % 7}`, name: "Viewed Pricing", properties: { i } })).join("\n")
    )
    const first = await startEngine({ NUDGE_DATA_DIR: dataDir })
    const address = `127.0.0.1:${first.port}`
    await Effect.runPromise(Ingest.track(address, { userId: "cli-user", event: "Signed Up", properties: { plan: "pro" }, messageId: "cli-1" }))
    const loaded = await Effect.runPromise(Load.load(address, file, { batchSize: 100 }))
    assert.strictEqual(loaded.accepted, 300)
    await stopProcess(first.child)

    const second = await startEngine({ NUDGE_DATA_DIR: dataDir })
    const again = `127.0.0.1:${second.port}`
    const reloaded = await Effect.runPromise(Load.load(again, file, { batchSize: 100 }))
    const events = await Effect.runPromise(
      Tail.tail(again, { fromStart: true, streamPrefixes: ["user-"] }).pipe(Stream.take(301), Stream.runCollect)
    )
    await stopProcess(second.child)
    assert.strictEqual(reloaded.duplicates, 300)
    assert.strictEqual(reloaded.accepted, 0)
    const stored = Chunk.toReadonlyArray(events)
    assert.deepInclude(JSON.parse(stored[0]!.dataJson), { userId: "cli-user", name: "Signed Up", properties: { plan: "pro" } })
    assert.strictEqual(new Set(stored.map((e) => e.eventId)).size, 301)
  })
})
