import { assert, describe, it } from "@effect/vitest"
import { startEngine, stopProcess } from "@nudge/engine/EngineProcess"
import { type Decision, RuleFormat } from "@nudge/proto"
import { Chunk, Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Audit, Ingest, Load, Rules, Tail } from "../src/index.js"

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url))

const kinds = (decisions: ReadonlyArray<Decision>) =>
  decisions.map((d) => `${d.kind} ${d.ruleId}${d.reason === "" ? "" : ` (${d.reason})`}`).sort()

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

  it("runs the README's example: the seed rule fires for alice alone, and dave's abandoned cart is settled by group", { timeout: 120_000 }, async () => {
    const engine = await startEngine({ NUDGE_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "nudge-cli-example-")) })
    const address = `127.0.0.1:${engine.port}`
    try {
      await Effect.runPromise(Rules.publish(address, { file: example("rules.yaml"), format: RuleFormat.RULE_FORMAT_YAML }))
      const loaded = await Effect.runPromise(Load.load(address, example("events.ndjson"), { batchSize: 100 }))
      assert.strictEqual(loaded.accepted, 14)
      const decisionsOf = (userId: string) => Effect.runPromise(Audit.firings(address, userId)).then(kinds)
      // Alice's deadline, 48 h after her checkout, is in the past: her timer is due as soon as it is scheduled.
      const deadline = Date.now() + 20_000
      let alice = await decisionsOf("alice")
      while (alice.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        alice = await decisionsOf("alice")
      }
      assert.deepStrictEqual(alice, ["fired pricing-abandon"])
      assert.deepStrictEqual(await decisionsOf("bob"), [])
      assert.deepStrictEqual(await decisionsOf("carol"), [])
      assert.deepStrictEqual(await decisionsOf("dave"), ["fired discount-offer", "fired survey", "suppressed gentle-reminder (group)"])
    } finally {
      await stopProcess(engine.child)
    }
  })
})
