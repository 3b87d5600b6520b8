import * as os from "node:os"
import { deleteRedisKeys, type Engine, open, running } from "./E2eEngine.js"
import { latency, type LatencyResult, ready, throughput, type ThroughputResult } from "./E2ePhases.js"
import { type Encoded, latencyEvents, markerEvents, ruleSetYaml, throughputEvents } from "./E2eWorkload.js"
import { writeSection } from "./Report.js"

/**
 * End to end: from a Track call to the TriggerFired decision on WatchFirings, with the engine
 * as its own process and the load generator here, on the embedded store and with Redis state.
 * 1. latency at a fixed open-loop offered rate (unary Track, one event per user);
 * 2. the sustained rate with 100 rules and 100,000 users (TrackStream as fast as accepted,
 *    then a marker per stream: the clock stops when every marker has fired).
 */
const num = (name: string, fallback: number) => {
  const raw = process.env[name]
  const n = raw === undefined || raw === "" ? fallback : Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got "${raw}"`)
  return n
}

const settings = {
  rate: num("BENCH_RATE", 2_000),
  warmupSeconds: num("BENCH_WARMUP_S", 3),
  latencySeconds: num("BENCH_LATENCY_S", 15),
  events: num("BENCH_EVENTS", 400_000),
  users: num("BENCH_USERS", 100_000),
  rules: num("BENCH_RULES", 100),
  streams: num("BENCH_STREAMS", 4),
  batch: num("BENCH_BATCH", 5_000),
  latencyDrainS: num("BENCH_LATENCY_DRAIN_S", 5),
  lowRate: num("BENCH_LOW_RATE", 200),
  ingestWindowS: num("BENCH_INGEST_WINDOW_S", 30),
  drainTimeoutS: num("BENCH_DRAIN_TIMEOUT_S", 120),
  maxSeconds: num("BENCH_MAX_S", 600)
}
const phases = (process.env.BENCH_PHASES ?? "latency,throughput").split(",").map((m) => m.trim())
const modes = (process.env.BENCH_MODES ?? "noop,embedded,redis").split(",").map((m) => m.trim()).filter((m) => m !== "")
// The engine inherits this process's environment: the embedded run must not see a REDIS_URL.
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
delete process.env.REDIS_URL
delete process.env.EVENTSTORE_CONNECTION_STRING

const runId = `e2e-${Date.now().toString(36)}`
const started = performance.now()
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`
const log = (line: string) => console.log(line)

// A hung phase must not outlive the run: kill the engines and stop.
const watchdog = setTimeout(() => {
  console.error(`bench:e2e exceeded BENCH_MAX_S=${settings.maxSeconds}; killing the engine`)
  running.forEach((child) => child.kill("SIGKILL"))
  process.exit(2)
}, settings.maxSeconds * 1000)
watchdog.unref()

const f = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "–" : n === Infinity ? "∞" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

interface ModeResult {
  readonly mode: string
  low?: LatencyResult
  latency?: LatencyResult
  throughput?: ThroughputResult
  readonly notes: Array<string>
}

const redisPatterns = ["nudge:state:*", "nudge:timers:*"]

interface LatencyWorkload {
  readonly low: Encoded
  readonly lat: Encoded
}

interface ThroughputWorkload {
  readonly tp: Encoded
  readonly index: Map<string, number>
}

/**
 * Runs `phase` against a fresh engine with the bench rules in force, and always stops the engine:
 * a backlog left by one phase must not slow the next.
 */
const withEngine = async <A>(mode: string, notes: Array<string>, tag: string, phase: (engine: Engine) => Promise<A>): Promise<A> => {
  const env: Record<string, string> = { NUDGE_DRAIN_MS: "2000" }
  if (mode === "redis") {
    // The checkpoint and snapshot keys are global: a fresh data folder needs them gone.
    const deleted = await deleteRedisKeys(redisUrl, redisPatterns)
    notes.push(`before the ${tag} engine: deleted ${deleted} keys matching ${redisPatterns.join(", ")} in ${redisUrl} (SCAN + UNLINK)`)
    log(`  ${notes.at(-1)}`)
    env.REDIS_URL = redisUrl
  }
  const engine = await open(env, settings.streams, mode === "noop" ? "noop" : "engine")
  try {
    const ruleCount = await engine.publish(ruleSetYaml(settings.rules))
    await ready(engine, markerEvents(runId, `${tag}-probe`, 3))
    log(`  engine at ${engine.address}, ${ruleCount} rules in force (${elapsed()})`)
    return await phase(engine)
  } catch (e) {
    console.error(engine.output().split("\n").slice(-20).join("\n"))
    throw e
  } finally {
    await engine.close()
  }
}

/** A phase of one mode; a failure is noted and the other modes and phases go on. */
const attempt = async (result: ModeResult, run: () => Promise<void>) => {
  try {
    await run()
  } catch (e) {
    result.notes.push(`failed: ${e instanceof Error ? e.message : String(e)}`)
    console.error(`  ${result.mode}: ${result.notes.at(-1)}`)
  }
}

const latencyPhase = (result: ModeResult, workload: LatencyWorkload) =>
  attempt(result, async () => {
    result.latency = await withEngine(result.mode, result.notes, "latency", async (engine) => {
      log(`  latency: ${settings.lowRate}/s open loop, 1 s warm-up + 5 s measured`)
      result.low = await latency(engine, workload.low, { rate: settings.lowRate, warmupSeconds: 1, seconds: 5, drainMs: settings.latencyDrainS * 1000 })
      log(`  latency p50 ${f(result.low.fired.p50, 2)} ms, p99 ${f(result.low.fired.p99, 2)} ms; ${result.low.missing} missing`)
      log(`  latency: ${settings.rate}/s open loop, ${settings.warmupSeconds} s warm-up + ${settings.latencySeconds} s measured`)
      const l = await latency(engine, workload.lat, {
        rate: settings.rate,
        warmupSeconds: settings.warmupSeconds,
        seconds: settings.latencySeconds,
        drainMs: settings.latencyDrainS * 1000
      })
      log(
        `  latency p50 ${f(l.fired.p50, 2)} ms, p99 ${f(l.fired.p99, 2)} ms, p99.9 ${f(l.fired.p999, 2)} ms; ` +
          `${l.missing} of ${l.measured} firings missing, ${l.unacked} of ${l.measured} calls unacknowledged after the drain (${elapsed()})`
      )
      return l
    })
  })

const throughputPhase = (result: ModeResult, workload: ThroughputWorkload) =>
  attempt(result, async () => {
    result.throughput = await withEngine(result.mode, result.notes, "throughput", async (engine) => {
      log(`  throughput: ${f(settings.events)} events, ${f(settings.users)} users, ${settings.streams} streams × ${f(settings.batch)} per call`)
      const t = await throughput(engine, workload.tp, workload.index, markerEvents(runId, result.mode, settings.streams), {
        streams: settings.streams,
        batch: settings.batch,
        ingestWindowMs: settings.ingestWindowS * 1000,
        drainTimeoutMs: settings.drainTimeoutS * 1000,
        progress: log
      })
      log(
        `  ingest ${f(t.events / t.ingestSeconds)} events/s; end to end ${
          t.endToEndSeconds === undefined ? `markers not fired within ${settings.drainTimeoutS} s` : `${f(t.events / t.endToEndSeconds)} events/s`
        } (${elapsed()})`
      )
      return t
    })
  })

const table = (results: ReadonlyArray<ModeResult>) => {
  const column = (m: ModeResult) => (m.mode === "redis" ? "Redis state" : m.mode === "noop" ? "no-op server (baseline)" : "embedded store")
  const row = (label: string, value: (m: ModeResult) => string, target = "") =>
    `| ${label} | ${results.map(value).join(" | ")} | ${target} |`
  const missing = (phase: string) => (phases.includes(phase) ? "failed" : "not run")
  const lat = (g: (l: LatencyResult) => string) => (m: ModeResult) => (m.latency === undefined ? missing("latency") : g(m.latency))
  const tp = (g: (t: ThroughputResult) => string) => (m: ModeResult) => (m.throughput === undefined ? missing("throughput") : g(m.throughput))
  return [
    `| | ${results.map(column).join(" | ")} | target |`,
    `|---|${results.map(() => "---|").join("")}---|`,
    row(
      `Track → TriggerFired on WatchFirings, p50 / p99 / p99.9 ms (${f(settings.rate)} events/s open loop, ${settings.latencySeconds} s)`,
      lat((l) => `${f(l.fired.p50, 2)} / **${f(l.fired.p99, 2)}** / ${f(l.fired.p999, 2)}`),
      "p99 < 25 ms (embedded)"
    ),
    row("p99 ÷ the no-op server's p99 (same run)", (m) => {
      const base = results.find((r) => r.mode === "noop")?.latency?.fired.p99
      return m.latency === undefined || base === undefined ? "–" : `${f(m.latency.fired.p99 / base, 1)}×`
    }),
    row(
      `the same at ${f(settings.lowRate)} events/s (5 s), p50 / p99 / max ms; firings missing`,
      (m) => (m.low === undefined ? missing("latency") : `${f(m.low.fired.p50, 2)} / ${f(m.low.fired.p99, 2)} / ${f(m.low.fired.max, 1)}; ${f(m.low.missing)} of ${f(m.low.measured)}`)
    ),
    row(`… max ms; firings missing / calls unacknowledged ${settings.latencyDrainS} s after the last send`, lat((l) => `${f(l.fired.max, 1)}; ${f(l.missing)} / ${f(l.unacked)} of ${f(l.measured)}`)),
    row("Track acknowledgement p50 / p99 / p99.9 ms", lat((l) => `${f(l.acked.p50, 2)} / ${f(l.acked.p99, 2)} / ${f(l.acked.p999, 2)}`)),
    row("load generator lateness p99 / max ms; achieved events/s", lat((l) => `${f(l.sendLag.p99, 2)} / ${f(l.sendLag.max, 1)}; ${f(l.achievedRate)}`)),
    row("engine CPU during the latency phase, cores", lat((l) => f(l.engineCores, 2))),
    row(
      `TrackStream ingest, events/s (up to ${f(settings.events)} events in ${settings.ingestWindowS} s, ${f(settings.users)} users, ${settings.streams} streams × ${f(settings.batch)})`,
      tp((t) => f(t.events / t.ingestSeconds))
    ),
    row(
      `**end to end, events/s** (${settings.rules} rules; events ÷ time to the last marker's TriggerFired)`,
      tp((t) => (t.endToEndSeconds === undefined ? `markers not fired within ${settings.drainTimeoutS} s` : `**${f(t.events / t.endToEndSeconds)}**`)),
      "≥ 20,000"
    ),
    row("events sent (of planned); users reached", tp((t) => `${f(t.events)} (of ${f(t.planned)}); ${f(Math.min(t.events, settings.users))}`)),
    row("seconds: ingest / to last marker firing", tp((t) => `${f(t.ingestSeconds, 1)} / ${f(t.endToEndSeconds, 1)}`)),
    row("decisions per event: fired / suppressed", tp((t) => `${f(t.fired / t.events, 3)} / ${f(t.suppressed / t.events, 3)}`)),
    row("batch acknowledged → its TriggerFired, p50 / p99 ms", tp((t) => `${f(t.decisionLag.p50)} / ${f(t.decisionLag.p99)}`)),
    row("engine CPU during the throughput phase, cores", tp((t) => f(t.engineCores, 2)))
  ].join("\n")
}

const main = async () => {
  const load = `1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores when the run started`
  log(`bench:e2e ${runId}: modes ${modes.join(", ")}; ${load}`)
  for (const mode of modes) {
    if (mode !== "noop" && mode !== "embedded" && mode !== "redis") throw new Error(`BENCH_MODES: unknown mode "${mode}" (noop, embedded, redis)`)
  }
  const results: Array<ModeResult> = modes.map((mode) => ({ mode, notes: [] }))
  const latencyCount = Math.round(settings.rate * (settings.warmupSeconds + settings.latencySeconds))
  // Every mode's latency first, and the throughput workload encoded only after: its 400,000 messages in this
  // process's heap made its garbage collections stall the timetable and the arrival stamps by up to 100 ms.
  if (phases.includes("latency")) {
    const workload = { low: latencyEvents(`${runId}-low`, settings.lowRate * 6), lat: latencyEvents(runId, latencyCount) }
    for (const result of results) {
      log(`${result.mode}:`)
      await latencyPhase(result, workload)
    }
  }
  if (phases.includes("throughput")) {
    const tp = throughputEvents(runId, settings.events, settings.users)
    const index = new Map<string, number>()
    tp.eventIds.forEach((id, i) => index.set(id, i))
    log(`${f(settings.events)} throughput events encoded (${elapsed()})`)
    for (const result of results) {
      log(`${result.mode}:`)
      await throughputPhase(result, { tp, index })
    }
  }
  if (modes.includes("redis")) {
    // Leave no engine state or dedup keys of this run behind for the tests that share this Redis.
    const deleted = await deleteRedisKeys(redisUrl, [...redisPatterns, `nudge:dedup:${runId}-*`]).catch(() => NaN)
    const notes = results.find((r) => r.mode === "redis")!.notes
    notes.push(`after the last engine: deleted ${deleted} keys (the same patterns and this run's nudge:dedup:${runId}-*)`)
    log(`  ${notes.at(-1)}`)
  }
  const body = [
    `Command: \`npm run bench:e2e\` (env: BENCH_RATE, BENCH_WARMUP_S, BENCH_LATENCY_S, BENCH_EVENTS, BENCH_USERS, BENCH_RULES, BENCH_STREAMS, BENCH_BATCH, BENCH_LOW_RATE, BENCH_LATENCY_DRAIN_S, BENCH_INGEST_WINDOW_S, BENCH_DRAIN_TIMEOUT_S, BENCH_MAX_S, BENCH_MODES, BENCH_PHASES, BENCH_REDIS_URL). ` +
      `The engine runs as its own process (default NUDGE_* settings, fresh data folder) on the same cores as the load generator; ` +
      `"Redis state" is \`REDIS_URL\`: dedup, snapshots, timers and checkpoints in Redis, events still in the embedded SQLite store.`,
    "",
    table(results),
    "",
    `- Latency: unary \`Track\` calls on a fixed timetable (open loop, not waiting for acknowledgements), one event per user ` +
      `(${f(latencyCount)} users) so the rule \`event: { name: Bench Fire, within: 1m }\` (cooldown 0s) fires on every one; each firing is matched to its call ` +
      `by \`causeEventId\` = \`EventId.forMessage(messageId)\`, and latency runs from the scheduled send time, so stalls of either process count. A firing that never arrives counts as infinitely late.`,
    `- Throughput: ${settings.rules} generated rules over 20 event names (property predicates, counts, sequences, absences, event-without-event; cooldowns, groups, caps) ` +
      `plus the marker rule; events spread over ${f(settings.users)} users (each user reached once before any repeats), 10% \`Session Started\`. ` +
      `Each stream sends its batches one call at a time, then one marker event; the router decides the log in order, so the last marker's firing means every event's decisions are stored and visible.`,
    `- Machine: ${load} (other work on the machine competes with the engine and the load generator).`,
    `- Baseline: the no-op server (\`tools/bench/src/NoopEngineServer.ts\`) answers the same calls with nothing behind them: Track is acknowledged at once and pushes a firing for each probe event to WatchFirings. ` +
      `Same load generator, same clients, same clock: it is what grpc-js and this machine cost before the engine does any work.`,
    ...results.flatMap((r) => r.notes.map((n) => `- ${r.mode === "redis" ? "Redis" : r.mode === "noop" ? "No-op" : "Embedded"}: ${n}.`))
  ].join("\n")
  log("")
  log(table(results))
  writeSection("End to end", body)
  log(`\nwritten to docs/benchmarks.md (${elapsed()})`)
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e)
    running.forEach((child) => child.kill("SIGKILL"))
    process.exit(1)
  })
