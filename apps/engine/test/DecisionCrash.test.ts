import { assert, describe, it } from "@effect/vitest"
import { TriggerEvent } from "@nudge/domain"
import { Effect, Either } from "effect"
import { startEngine, stopProcess } from "../src/EngineProcess.js"
import { controlClients, ingestClient, request } from "./support/Clients.js"
import * as StoredLog from "./support/StoredLog.js"
import * as TestEngine from "./support/TestEngine.js"

const rules = `
rules:
  - { id: every-visit, version: 1, name: v, priority: 1, cooldown: 1d, action: { journey: j }, when: { event: { name: Visited, within: 1h } } }
  - id: checkout-abandon
    version: 1
    name: c
    priority: 1
    cooldown: 1d
    action: { journey: c }
    when: { absent: { name: Completed Purchase, within: 3s, after: { name: Started Checkout } } }
`

const decisions = (dataDir: string) =>
  Effect.runPromise(
    Effect.map(StoredLog.read(dataDir, [TriggerEvent.streamPrefix]), (events) =>
      events.flatMap((e) => {
        const d = TriggerEvent.decode(e.type, e.data)
        return Either.isRight(d) && d.right._tag === "TriggerFired" ? [d.right] : []
      })
    )
  )

describe("decisions across a crash (real child process)", () => {
  it("loses no decision, doubles none, and still fires pending deadlines after a SIGKILL mid-load", { timeout: 120_000 }, async () => {
    const dataDir = TestEngine.tempDir()
    const users = 6000
    const first = await startEngine({ NUDGE_DATA_DIR: dataDir })
    const control = controlClients(first.port)
    await control.publish(rules)
    control.close()
    const ingest = ingestClient(first.port)
    const checkouts = Array.from({ length: 50 }, (_, i) => request({ messageId: `co-${i}`, userId: `buyer-${i}`, name: "Started Checkout" }))
    assert.isTrue((await ingest.trackStream(checkouts)).ok)
    const visits = Array.from({ length: users }, (_, i) => request({ messageId: `v-${i}`, userId: `visitor-${i}`, name: "Visited" }))
    const batches = Array.from({ length: users / 500 }, (_, b) => visits.slice(b * 500, (b + 1) * 500))
    let acknowledged = 0
    // Two producers; the engine dies under them while events are still arriving and being decided.
    await Promise.all(
      [0, 1].map(async (lane) => {
        for (let b = lane; b < batches.length; b += 2) {
          const result = await ingest.trackStream(batches[b]!)
          if (!result.ok) return
          acknowledged += 1
          if (acknowledged === 4) first.child.kill("SIGKILL")
        }
      })
    )
    ingest.close()
    await stopProcess(first.child)
    assert.isBelow(acknowledged, batches.length, "the kill happened mid-load")

    const second = await startEngine({ NUDGE_DATA_DIR: dataDir })
    // The producer retries everything; what was stored before the kill is a duplicate and is not decided again.
    const retry = ingestClient(second.port)
    for (const batch of batches) assert.isTrue((await retry.trackStream(batch)).ok)
    retry.close()
    const audit = controlClients(second.port)
    const deadline = Date.now() + 60_000
    for (;;) {
      const last = await audit.firings(`visitor-${users - 1}`)
      const buyer = await audit.firings("buyer-49")
      if (last.ok && last.value.decisions.length > 0 && buyer.ok && buyer.value.decisions.length > 0) break
      if (Date.now() > deadline) throw new Error("decisions did not catch up after the restart")
      await new Promise((r) => setTimeout(r, 200))
    }
    // Past any second deadline a doubled timer would bring.
    await new Promise((r) => setTimeout(r, 1000))
    audit.close()
    await stopProcess(second.child)

    const fired = await decisions(dataDir)
    const perRule = (ruleId: string) => fired.filter((d) => d.ruleId === ruleId)
    assert.strictEqual(perRule("every-visit").length, users)
    assert.strictEqual(new Set(perRule("every-visit").map((d) => d.userId)).size, users)
    assert.strictEqual(perRule("checkout-abandon").length, 50)
    assert.strictEqual(new Set(fired.map((d) => d.firingId)).size, fired.length)
  })
})
