/**
 * Router bench: the decision path alone, without gRPC. The end-to-end bench's throughput load
 * (100 rules, 100,000 users) is appended to a fresh embedded store, then the router decides it
 * from the start of the log with the default actor options, as a restarted engine catches up:
 * activations from snapshots, the decisions' appends, snapshots, the firing index and the
 * checkpoint, until the checkpoint reaches the last event. Baseline, same run and inputs: the
 * pure decider (`UserDecider.decide`) with every user's state kept in a map, which is the
 * deciding without any of that. Prints a markdown table and writes it to docs/benchmarks.md.
 */
import { ActiveRules, Router, UserActors, UserDecider, UserState } from "@nudge/actors"
import { EventId, RuleSetPublished, UserEvent } from "@nudge/domain"
import { EventStore, Position, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { RuleSet } from "@nudge/rules"
import { SqliteState, StateStore } from "@nudge/state"
import { Effect, Either, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type Message, ruleSetYaml, throughputMessages } from "./E2eWorkload.js"
import { format, writeSection } from "./Report.js"

const events = Number(process.env["BENCH_EVENTS"] ?? 200_000)
const users = Number(process.env["BENCH_USERS"] ?? 100_000)
const rules = Number(process.env["BENCH_RULES"] ?? 100)
/** Inputs an append commits, as TrackStream chunks do. */
const commitSize = 1_024

const t0 = Date.UTC(2026, 10, 1)

const tracked = (message: (i: number) => Message, i: number) => {
  const m = message(i)
  // One input per 10 ms of event time: windows and absences see a realistic spread.
  return new UserEvent.Tracked({ ...m, occurredAt: t0 + i * 10, receivedAt: t0 + i * 10, context: { source: "bench-router" } })
}

/** The pure decider over the inputs, every user live: inputs per second. */
const baseline = (active: ActiveRules.ActiveRules, inputs: ReadonlyArray<UserEvent.Tracked>) => {
  const states = new Map<string, UserState.UserState>()
  const revisions = new Map<string, number>()
  // The router reads stored ids; computing them is ingestion's work, not deciding's.
  const ids = inputs.map((event) => EventId.forMessage(event.messageId))
  let decisions = 0
  const started = performance.now()
  for (let i = 0; i < inputs.length; i++) {
    const event = inputs[i]!
    const revision = (revisions.get(event.userId) ?? -1) + 1
    revisions.set(event.userId, revision)
    const decided = UserDecider.decide(active, states.get(event.userId) ?? UserState.empty(event.userId), { event, eventId: ids[i]!, revision })
    states.set(event.userId, decided.state)
    decisions += decided.decisions.length
  }
  return { perSecond: inputs.length / ((performance.now() - started) / 1_000), decisionsPerInput: decisions / inputs.length }
}

const storeAll = (inputs: ReadonlyArray<UserEvent.Tracked>, yaml: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const published = new RuleSetPublished.RuleSetPublished({ version: 1, format: "yaml", text: yaml, publishedAt: t0 })
    yield* store.append(RuleSetPublished.stream, [{ id: EventId.forMessage("bench-router-rules"), ...RuleSetPublished.encode(published) }], "any")
    let last = ""
    for (let from = 0; from < inputs.length; from += commitSize) {
      const results = yield* store.appendMany(
        inputs.slice(from, from + commitSize).map((event) => ({
          stream: UserEvent.streamOf(event.userId),
          events: [{ id: EventId.forMessage(event.messageId), ...UserEvent.encode(event) }],
          expected: "any" as const
        }))
      )
      const stored = results.at(-1)!
      if ("_tag" in stored) return yield* Effect.die(stored)
      last = Position.format(stored.events[0]!.position)
    }
    return last
  })

/** The router from the start of the log until its checkpoint is `last`: wall seconds and process CPU seconds (all threads). */
const routeAll = (last: string) =>
  Effect.gen(function* () {
    const state = yield* StateStore
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const router = yield* Effect.fork(Router.run)
    while ((yield* state.get([Router.checkpointKey])).get(Router.checkpointKey) !== last) yield* Effect.sleep(20)
    const seconds = (performance.now() - started) / 1_000
    const cpu = process.cpuUsage(cpu0)
    yield* Fiber.interrupt(router)
    return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
  })

const main = async () => {
  const yaml = ruleSetYaml(rules)
  const active = ActiveRules.make(1, Either.getOrThrow(RuleSet.parseRuleSet(yaml, "yaml")))
  const message = throughputMessages("bench-router", users)
  const inputs = Array.from({ length: events }, (_, i) => tracked(message, i))
  const pure = baseline(active, inputs)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nudge-bench-router-"))
  const layer = UserActors.layer(UserActors.defaults).pipe(
    Layer.provideMerge(
      Layer.merge(SqliteEventStore.layerSqlite, SqliteState.layerSqlite).pipe(
        Layer.provide(SqliteDatabase.layer({ filename: path.join(dir, "events.db") }))
      )
    )
  )
  try {
    const routed = await Effect.runPromise(
      Effect.gen(function* () {
        const last = yield* storeAll(inputs, yaml)
        return yield* routeAll(last)
      }).pipe(Effect.provide(layer), Effect.scoped)
    )
    const perSecond = events / routed.seconds
    const table = [
      `Command: \`npm run bench:router\` (env: BENCH_EVENTS, BENCH_USERS, BENCH_RULES). The end-to-end bench's throughput load (${format(events)} events, ${format(users)} users, ${rules} generated rules) is stored in a fresh embedded store (synchronous=FULL) in commits of ${format(commitSize)}, then \`Router.run\` decides it from the start of the log with the default actor options (${format(UserActors.defaults.maxLiveUsers)} live users, so a user's later inputs find it passivated) until its checkpoint reaches the last event. Baseline, same run: the same inputs through the pure decider (\`UserDecider.decide\`), every user's state in a map: no store, no snapshots, no Effect.`,
      ``,
      `| | pure decider (baseline) | router over the embedded store | router ÷ baseline |`,
      `|---|---:|---:|---:|`,
      `| inputs/s | ${format(pure.perSecond)} | **${format(perSecond)}** | ${(perSecond / pure.perSecond).toFixed(3)} |`,
      `| µs per input (router: process CPU, writer thread included) | ${(1e6 / pure.perSecond).toFixed(1)} | ${((routed.cpuSeconds / events) * 1e6).toFixed(1)} | |`,
      `| decisions per input | ${pure.decisionsPerInput.toFixed(2)} | | |`,
      ``
    ].join("\n")
    console.log(table)
    writeSection("Router", table)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
