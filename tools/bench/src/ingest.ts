import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { encodedEvents, streamLoad, unaryLoad } from "./Load.js"
import { startProcess, stopProcess } from "@nudge/engine/EngineProcess"
import { cpuSeconds } from "./ProcessCpu.js"
import { writeSection } from "./Report.js"

/**
 * Ingestion throughput and latency: the engine with durable appends to the
 * embedded store, next to a no-op grpc-js server measured in the same run on
 * the same machine. Both run as separate processes; the load generator here.
 */
const events = Number(process.env.BENCH_EVENTS ?? 200_000)
const streams = Number(process.env.BENCH_STREAMS ?? 4)
const batch = Number(process.env.BENCH_BATCH ?? 5_000)
const unaryCalls = Number(process.env.BENCH_UNARY ?? 3_000)

/** Each server takes a free port: a fixed one can still be held by the previous run's closing connections. */
const measure = async (name: string, entry: string, env: Record<string, string>) => {
  const { child, port } = await startProcess(entry, { NUDGE_GRPC_ADDRESS: "127.0.0.1:0", ...env })
  const address = `127.0.0.1:${port}`
  try {
    const runId = `${name}-${Date.now()}`
    await streamLoad(address, encodedEvents(20_000, `${runId}-warm`, 10_000), streams, batch)
    const load = encodedEvents(events, runId, 10_000)
    const before = cpuSeconds(child.pid)
    const stream = await streamLoad(address, load, streams, batch)
    // CPU per event is steadier than events/s on a shared machine: other work slows the run, not the work per event.
    const cpuPerEvent = ((cpuSeconds(child.pid) - before) / events) * 1e6
    const unary = await unaryLoad(address, encodedEvents(unaryCalls, `${runId}-unary`, 1_000), 1)
    return { stream, cpuPerEvent, unary }
  } finally {
    await stopProcess(child)
  }
}

const main = async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "nudge-bench-"))
  const noop = await measure("noop", "tools/bench/src/NoopIngestServer.ts", {})
  const engine = await measure("engine", "apps/engine/src/main.ts", { NUDGE_DATA_DIR: dataDir })
  fs.rmSync(dataDir, { recursive: true, force: true })
  const f = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 })
  const ms = (n: number) => n.toFixed(2)
  const ratio = engine.stream.eventsPerSecond / noop.stream.eventsPerSecond
  const table = [
    `| | no-op grpc-js server | Nudge engine (embedded, synchronous=FULL) | engine / no-op |`,
    `|---|---|---|---|`,
    `| TrackStream events/s (${streams} streams, ${f(batch)} per call, ${f(events)} events) | ${f(noop.stream.eventsPerSecond)} | ${f(engine.stream.eventsPerSecond)} | ${ratio.toFixed(2)} |`,
    `| TrackStream server CPU per event (all threads), µs (last column: no-op ÷ engine) | ${f(noop.cpuPerEvent)} | ${f(engine.cpuPerEvent)} | ${(noop.cpuPerEvent / engine.cpuPerEvent).toFixed(2)} |`,
    `| TrackStream call ack p50 / p99, ms | ${ms(noop.stream.ackP50)} / ${ms(noop.stream.ackP99)} | ${ms(engine.stream.ackP50)} / ${ms(engine.stream.ackP99)} | |`,
    `| Track (unary, 1 in flight) ack p50 / p99, ms | ${ms(noop.unary.p50)} / ${ms(noop.unary.p99)} | ${ms(engine.unary.p50)} / ${ms(engine.unary.p99)} | |`,
    `| Track (unary, 1 in flight) calls/s | ${f(noop.unary.callsPerSecond)} | ${f(engine.unary.callsPerSecond)} | ${(engine.unary.callsPerSecond / noop.unary.callsPerSecond).toFixed(2)} |`
  ].join("\n")
  console.log(table)
  writeSection(
    "Ingestion",
    `Command: \`npm run bench:ingest\` (env: BENCH_EVENTS, BENCH_STREAMS, BENCH_BATCH, BENCH_UNARY).\n\n${table}`
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
