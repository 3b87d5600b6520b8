import { assert, describe, it } from "@effect/vitest"
import { status } from "@grpc/grpc-js"
import type { Decision } from "@nudge/proto"
import { Effect, Option, Redacted } from "effect"
import type { EngineConfig } from "../src/EngineConfig.js"
import { controlClients, ingestClient, request, unaryBytes } from "./support/Clients.js"
import * as TestEngine from "./support/TestEngine.js"

/** The seed scenario with a 2-second window, and a consent-gated rule. */
const rules = `
rules:
  - id: pricing-abandon
    version: 1
    name: Pricing viewed, no purchase
    priority: 10
    cooldown: 7d
    action: { journey: pricing-abandon }
    when:
      absent:
        name: Completed Purchase
        within: 2s
        after:
          name: Started Checkout
          when:
            all:
              - trait: { sessionCount: { gt: 1 } }
              - event: { name: Viewed Pricing, within: 48h }
  - id: win-back
    version: 1
    name: Win back
    priority: 1
    cooldown: 1d
    consent: marketing
    action: { journey: win-back }
    when:
      event: { name: Went Quiet, within: 1h }
`

const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 })

const waitFor = async <A>(probe: () => Promise<A | undefined>, timeoutMs = 10_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error("timed out waiting")
    await new Promise((r) => setTimeout(r, 50))
  }
}

const withEngine = <A>(config: EngineConfig, f: (port: number) => Promise<A>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { port } = yield* TestEngine.start(config)
      return yield* Effect.promise(() => f(port))
    })
  )

const checkoutJourney = (userId: string, now: number) => [
  request({ userId, name: "Session Started", occurredAt: at(now - 3 * 86_400_000) }),
  request({ userId, name: "Session Started", occurredAt: at(now - 1000) }),
  request({ userId, name: "Viewed Pricing", occurredAt: at(now - 900) }),
  request({ userId, name: "Started Checkout", occurredAt: at(now) })
]

const kinds = (decisions: ReadonlyArray<Decision>) => decisions.map((d) => `${d.kind} ${d.ruleId}${d.reason === "" ? "" : ` (${d.reason})`}`)

describe("trigger decisions end to end (gRPC)", () => {
  it.live("fires the seed rule once for the returning user, not for the buyer, and suppresses without consent", () =>
    withEngine(TestEngine.config(), async (port) => {
      const ingest = ingestClient(port)
      const control = controlClients(port)
      const watched: Array<Decision> = []
      const stop = control.watch((d) => watched.push(d))
      const published = await control.publish(rules)
      assert.isTrue(published.ok && published.value.version === 1 && published.value.ruleCount === 2)
      const now = Date.now()
      const stream = await ingest.trackStream([
        ...checkoutJourney("alice", now),
        ...checkoutJourney("bob", now),
        request({ userId: "bob", name: "Completed Purchase", occurredAt: at(now + 500) }),
        request({ userId: "carol", name: "Went Quiet" })
      ])
      assert.isTrue(stream.ok && stream.value.accepted === 10)
      const alice = await waitFor(async () => {
        const r = await control.firings("alice")
        return r.ok && r.value.decisions.length > 0 ? r.value.decisions : undefined
      })
      // A second deadline could only come from a doubled timer: wait past it before judging.
      await new Promise((r) => setTimeout(r, 1500))
      const final = await control.firings("alice")
      const bob = await control.firings("bob")
      const carol = await control.firings("carol")
      assert.deepStrictEqual(kinds(final.ok ? final.value.decisions : []), ["fired pricing-abandon"])
      // Bob is known (he bought) but has no decisions; nobody was ever tracked.
      assert.isTrue(bob.ok)
      assert.deepStrictEqual(kinds(bob.ok ? bob.value.decisions : []), [])
      const nobody = await control.firings("nobody")
      assert.isTrue(!nobody.ok && nobody.error.code === status.NOT_FOUND)
      assert.include(nobody.ok ? "" : nobody.error.details, "user nobody")
      assert.deepStrictEqual(kinds(carol.ok ? carol.value.decisions : []), ["suppressed win-back (consent)"])
      const fired = alice[0]!
      assert.approximately(fired.at!.seconds * 1000 + fired.at!.nanos / 1e6, now + 2000, 1)
      const explained = await control.explain(fired.firingId)
      assert.isTrue(explained.ok && explained.value.kind === "fired")
      assert.include(explained.ok ? explained.value.explanationJson : "", "Started Checkout")
      assert.includeMembers(kinds(watched), ["fired pricing-abandon", "suppressed win-back (consent)"])
      const missing = await control.explain("no-such-firing")
      assert.isTrue(!missing.ok && missing.error.code === status.NOT_FOUND)
      stop()
      ingest.close()
      control.close()
    }))

  it.live("retracts a firing once when a purchase made before the deadline arrives after it", () =>
    withEngine(TestEngine.config(), async (port) => {
      const ingest = ingestClient(port)
      const control = controlClients(port)
      await control.publish(rules)
      const now = Date.now()
      await ingest.trackStream(checkoutJourney("dave", now))
      await waitFor(async () => {
        const r = await control.firings("dave")
        return r.ok && r.value.decisions.length > 0 ? true : undefined
      })
      await ingest.track(request({ userId: "dave", name: "Completed Purchase", occurredAt: at(now + 1500) }))
      const decisions = await waitFor(async () => {
        const r = await control.firings("dave")
        return r.ok && r.value.decisions.length > 1 ? r.value.decisions : undefined
      })
      await new Promise((r) => setTimeout(r, 300))
      const final = await control.firings("dave")
      assert.deepStrictEqual(kinds(final.ok ? final.value.decisions : []).map((k) => k.split(" (")[0]), [
        "fired pricing-abandon",
        "retracted pricing-abandon"
      ])
      assert.strictEqual(decisions[1]!.firingId, decisions[0]!.firingId)
      const explained = await control.explain(decisions[0]!.firingId)
      assert.isTrue(explained.ok && explained.value.kind === "retracted")
      assert.include(explained.ok ? explained.value.reason : "", "Completed Purchase")
      assert.include(explained.ok ? explained.value.explanationJson : "", "Started Checkout")
      ingest.close()
      control.close()
    }))

  it.live("refuses an invalid rule set whole, naming the path, and keeps the published one", () =>
    withEngine(TestEngine.config(), async (port) => {
      const control = controlClients(port)
      await control.publish(rules)
      const bad = await control.publish(rules.replace("within: 2s", "within: -2s"))
      assert.isTrue(!bad.ok && bad.error.code === status.INVALID_ARGUMENT)
      assert.match(bad.ok ? "" : bad.error.details, /rules\[0\]\.when\.absent\.within/)
      const duplicate = await control.publish(rules.replace("id: win-back", "id: pricing-abandon"))
      assert.match(duplicate.ok ? "" : duplicate.error.details, /duplicate rule id "pricing-abandon"/)
      // Stored, either would fail every ListRules (a uint32 version, an int32 priority) and every audit answer about its firings.
      for (const [field, text] of [
        ["version", rules.replace("version: 1", "version: 5000000000")],
        ["priority", rules.replace("priority: 10", "priority: 10000000000")]
      ] as const) {
        const outOfRange = await control.publish(text)
        assert.isTrue(!outOfRange.ok && outOfRange.error.code === status.INVALID_ARGUMENT)
        assert.match(outOfRange.ok ? "" : outOfRange.error.details, new RegExp(`rules\\[0\\]\\.${field}: expected an integer from`))
      }
      const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])
      for (const method of ["/nudge.v1.RuleService/PublishRules", "/nudge.v1.AuditService/Explain"]) {
        const raw = await unaryBytes(ingestClient(port).raw, method, garbage)
        assert.isTrue(!raw.ok && raw.error.code === status.INVALID_ARGUMENT, `${method} refuses malformed protobuf`)
      }
      const listed = await control.listRules()
      assert.isTrue(listed.ok && listed.value.version === 1)
      assert.deepStrictEqual(listed.ok ? listed.value.rules.map((r) => r.id) : [], ["pricing-abandon", "win-back"])
      control.close()
    }))

  it.live("pages a user's decisions from the latest back, and refuses a bad page size or token", () =>
    withEngine(TestEngine.config(), async (port) => {
      const ingest = ingestClient(port)
      const control = controlClients(port)
      // Five rules that all hold on one Ping: five firings for one event.
      const pings = Array.from(
        { length: 5 },
        (_, i) => `  - { id: ping-${i}, version: 1, name: Ping ${i}, priority: ${i}, cooldown: 0s, action: { journey: j }, when: { event: { name: Ping, within: 1h } } }`
      )
      await control.publish(`rules:\n${pings.join("\n")}\n`)
      await ingest.track(request({ userId: "paged", name: "Ping" }))
      const all = await waitFor(async () => {
        const listed = await control.firings("paged")
        return listed.ok && listed.value.decisions.length === 5 ? listed.value : undefined
      })
      assert.strictEqual(all.nextPageToken, "")
      const pages: Array<ReadonlyArray<Decision>> = []
      let pageToken = ""
      do {
        const page = await control.firings("paged", { pageSize: 2, pageToken })
        assert.isTrue(page.ok)
        if (!page.ok) break
        pages.unshift(page.value.decisions)
        pageToken = page.value.nextPageToken
      } while (pageToken !== "" && pages.length < 10)
      assert.deepStrictEqual(pages.map((p) => p.length), [1, 2, 2])
      assert.deepStrictEqual(pages.flat(), all.decisions)
      const tooBig = await control.firings("paged", { pageSize: 1001 })
      assert.isTrue(!tooBig.ok && tooBig.error.code === status.INVALID_ARGUMENT)
      assert.include(tooBig.ok ? "" : tooBig.error.details, "page_size")
      for (const pageToken of ["not-a-token", "9999999999999999999"]) {
        const badToken = await control.firings("paged", { pageToken })
        assert.isTrue(!badToken.ok && badToken.error.code === status.INVALID_ARGUMENT, pageToken)
        assert.include(badToken.ok ? "" : badToken.error.details, "page_token")
      }
      ingest.close()
      control.close()
    }))

  it.live("keeps a pending deadline across a restart and fires it once", () =>
    Effect.gen(function* () {
      const config = TestEngine.config()
      const now = Date.now()
      yield* withEngine(config, async (port) => {
        const ingest = ingestClient(port)
        const control = controlClients(port)
        await control.publish(rules)
        await ingest.trackStream(checkoutJourney("erin", now))
        // Let the actor schedule the timer, then stop well before the deadline.
        await new Promise((r) => setTimeout(r, 400))
        ingest.close()
        control.close()
      })
      yield* Effect.sleep("2500 millis")
      const decisions = yield* withEngine(config, async (port) => {
        const control = controlClients(port)
        const found = await waitFor(async () => {
          const r = await control.firings("erin")
          return r.ok && r.value.decisions.length > 0 ? r.value.decisions : undefined
        })
        await new Promise((r) => setTimeout(r, 500))
        const final = await control.firings("erin")
        control.close()
        return final.ok ? final.value.decisions : found
      })
      assert.deepStrictEqual(kinds(decisions), ["fired pricing-abandon"])
    }))

  it.live("decides the same with dedup, snapshots, checkpoints and timers in Redis (real server)", () =>
    Effect.gen(function* () {
      const config = TestEngine.config({ redisUrl: Option.some(Redacted.make(process.env.REDIS_URL ?? "redis://127.0.0.1:6379")) })
      const now = Date.now()
      yield* withEngine(config, async (port) => {
        const ingest = ingestClient(port)
        const control = controlClients(port)
        await control.publish(rules)
        await ingest.trackStream([...checkoutJourney("hal", now), request({ userId: "ivy", name: "Went Quiet" })])
        await new Promise((r) => setTimeout(r, 300))
        ingest.close()
        control.close()
      })
      // Restarted before the deadline: the timer and the checkpoint come back from Redis.
      const decided = yield* withEngine(config, async (port) => {
        const control = controlClients(port)
        const hal = await waitFor(async () => {
          const r = await control.firings("hal")
          return r.ok && r.value.decisions.length > 0 ? r.value.decisions : undefined
        })
        const ivy = await control.firings("ivy")
        control.close()
        return { hal, ivy: ivy.ok ? ivy.value.decisions : [] }
      })
      assert.deepStrictEqual(kinds(decided.hal), ["fired pricing-abandon"])
      assert.deepStrictEqual(kinds(decided.ivy), ["suppressed win-back (consent)"])
    }))

  it.live("backtests a draft over the stored history without firing anything", () =>
    withEngine(TestEngine.config(), async (port) => {
      const ingest = ingestClient(port)
      const control = controlClients(port)
      const now = Date.now()
      await ingest.trackStream([...checkoutJourney("fay", now), ...checkoutJourney("gus", now)])
      const result = await control.backtest({ text: rules, format: 1, from: "", to: `${now + 10_000}`, sampleSize: 5 })
      assert.isTrue(result.ok)
      if (!result.ok) return
      assert.strictEqual(result.value.users, 2)
      const seed = result.value.rules.find((r) => r.ruleId === "pricing-abandon")!
      assert.strictEqual(seed.firings, 2)
      assert.sameMembers(seed.sampleUsers, ["fay", "gus"])
      const stored = await control.firings("fay")
      assert.deepStrictEqual(stored.ok ? stored.value.decisions : [], [])
      const inverted = await control.backtest({ text: rules, format: 1, from: `${now}`, to: `${now - 1}`, sampleSize: 5 })
      assert.isTrue(!inverted.ok && inverted.error.code === status.INVALID_ARGUMENT)
      assert.include(inverted.ok ? "" : inverted.error.details, "to: is before from")
      ingest.close()
      control.close()
    }))
})
