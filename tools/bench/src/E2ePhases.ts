/**
 * The two measurements of the end-to-end bench, each against a running engine with the bench
 * rule set published and bounded in time: latency at a fixed offered rate, and the sustained
 * rate at which decisions keep up with a saturating load.
 */
import type { Engine } from "./E2eEngine.js"
import { TimedOut, waitUntil, withTimeout } from "./E2eEngine.js"
import { type Encoded, latencyRule, markerRule } from "./E2eWorkload.js"
import { percentile } from "./Load.js"

const now = () => performance.now()

const sorted = (values: Iterable<number>) => Float64Array.from(values).sort()

export interface Quantiles {
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

const quantiles = (values: Iterable<number>): Quantiles => {
  const s = Array.from(sorted(values))
  return { p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s.length === 0 ? NaN : s[s.length - 1]! }
}

/** Sends the marker `probe` until its firing is seen on WatchFirings: rules in force, watch live. */
export const ready = async (engine: Engine, probes: Encoded) => {
  for (let attempt = 0; attempt < probes.buffers.length; attempt++) {
    const eventId = probes.eventIds[attempt]!
    let seen = false
    engine.listen((d) => {
      if (d.kind === "fired" && d.ruleId === markerRule && d.causeEventId === eventId) seen = true
    })
    engine.track(probes.buffers[attempt]!, (e) => e !== null && console.error(`probe Track failed: ${e.message}`))
    if (await waitUntil(() => seen, 5_000)) return
  }
  throw new TimedOut("the engine never fired the probe rule")
}

export interface LatencyOptions {
  readonly rate: number
  readonly warmupSeconds: number
  readonly seconds: number
  /** How long to wait for the last firings after the last send. */
  readonly drainMs: number
}

export interface LatencyResult {
  readonly offered: number
  readonly measured: number
  readonly sent: number
  readonly errors: number
  /** Measured events whose firing never arrived: counted as infinitely late in the quantiles. */
  readonly missing: number
  readonly unacked: number
  /** Scheduled send → TriggerFired on WatchFirings, ms. */
  readonly fired: Quantiles
  /** Scheduled send → Track acknowledgement, ms. */
  readonly acked: Quantiles
  /** How late the load generator issued calls against its timetable, ms. */
  readonly sendLag: Quantiles
  readonly achievedRate: number
  readonly engineCores: number
}

/**
 * Open loop: call `i` is due at `t0 + i / rate`; each timer tick sends every call that is due,
 * without waiting for acknowledgements, and latencies run from the due time, so a stall of the
 * engine (or of this process) shows as latency instead of as fewer calls.
 */
export const latency = async (engine: Engine, events: Encoded, options: LatencyOptions): Promise<LatencyResult> => {
  const total = Math.min(events.buffers.length, Math.round(options.rate * (options.warmupSeconds + options.seconds)))
  const warm = Math.round(options.rate * options.warmupSeconds)
  const index = new Map<string, number>()
  for (let i = 0; i < total; i++) index.set(events.eventIds[i]!, i)
  const fired = new Float64Array(total).fill(NaN)
  const acked = new Float64Array(total).fill(NaN)
  const issued = new Float64Array(total).fill(NaN)
  let firedCount = 0
  let errors = 0
  engine.listen((d, at) => {
    if (d.kind !== "fired" || d.ruleId !== latencyRule) return
    const i = index.get(d.causeEventId)
    if (i !== undefined && Number.isNaN(fired[i]!)) {
      fired[i] = at
      firedCount++
    }
  })
  const interval = 1000 / options.rate
  const t0 = now() + 20
  const due = (i: number) => t0 + i * interval
  let next = 0
  let measureStartCpu = NaN
  const sendAll = new Promise<void>((resolve) => {
    const tick = () => {
      const t = now()
      while (next < total && due(next) <= t) {
        const i = next++
        if (i === warm) measureStartCpu = engine.cpu()
        issued[i] = now()
        engine.track(events.buffers[i]!, (e) => {
          if (e === null) acked[i] = now()
          else errors++
        })
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(5, due(next) - now())))
      else resolve()
    }
    tick()
  })
  await withTimeout(sendAll, (options.warmupSeconds + options.seconds) * 1000 + 30_000, "latency load")
  const lastDue = due(total - 1)
  const measureCpu = engine.cpu() - measureStartCpu
  await waitUntil(() => firedCount + errors >= total, options.drainMs)
  const measuredRange = Array.from({ length: total - warm }, (_, k) => k + warm)
  const from = (times: Float64Array) => measuredRange.map((i) => (Number.isNaN(times[i]!) ? Infinity : times[i]! - due(i)))
  const measured = measuredRange.length
  return {
    offered: options.rate,
    measured,
    sent: total,
    errors,
    missing: measuredRange.filter((i) => Number.isNaN(fired[i]!)).length,
    unacked: measuredRange.filter((i) => Number.isNaN(acked[i]!)).length,
    fired: quantiles(from(fired)),
    acked: quantiles(from(acked)),
    sendLag: quantiles(from(issued)),
    achievedRate: measured / ((issued[total - 1]! - issued[warm]!) / 1000),
    engineCores: measureCpu / ((lastDue - due(warm)) / 1000)
  }
}

export interface ThroughputOptions {
  readonly streams: number
  readonly batch: number
  /** Producers start no new batch after this and send their markers: the phase stays bounded however slow the engine is. */
  readonly ingestWindowMs: number
  /** How long after the last acknowledgement the markers may take to fire. */
  readonly drainTimeoutMs: number
  /** Called about once a second with progress, for the console. */
  readonly progress: (line: string) => void
}

export interface ThroughputResult {
  /** Events sent before the producers stopped (all of them, unless the ingest window ran out). */
  readonly events: number
  readonly planned: number
  readonly accepted: number
  readonly rejected: number
  readonly ingestSeconds: number
  /** Undefined when the markers did not all fire in time. */
  readonly endToEndSeconds: number | undefined
  /** Decisions seen on WatchFirings for the load's events. */
  readonly fired: number
  readonly suppressed: number
  /** Batch acknowledgement → TriggerFired of its events, ms: how far decisions trail ingestion. */
  readonly decisionLag: Quantiles
  readonly engineCores: number
  /** Per second: events acknowledged and decisions seen so far. */
  readonly timeline: ReadonlyArray<{ readonly second: number; readonly acked: number; readonly decided: number }>
}

/**
 * Pushes `events` through `streams` concurrent producers, each sending its batches one
 * TrackStream call at a time, then its marker; the clock stops when every marker's firing is on
 * WatchFirings. The router decides the log in order, so a marker's firing means every event
 * stored before it has been decided: the last one bounds the time until the load's effects are visible.
 */
export const throughput = async (
  engine: Engine,
  events: Encoded,
  index: ReadonlyMap<string, number>,
  markers: Encoded,
  options: ThroughputOptions
): Promise<ThroughputResult> => {
  const count = events.buffers.length
  const batches = Math.ceil(count / options.batch)
  const batchAcked = new Float64Array(batches).fill(NaN)
  const markerFired = new Float64Array(options.streams).fill(NaN)
  const lagSamples: Array<number> = []
  const pendingLag: Array<[batch: number, at: number]> = []
  let fired = 0
  let suppressed = 0
  let accepted = 0
  let rejected = 0
  engine.listen((d, at) => {
    if (d.ruleId === markerRule) {
      const s = markers.eventIds.indexOf(d.causeEventId)
      if (s >= 0 && d.kind === "fired") markerFired[s] = at
      return
    }
    const i = index.get(d.causeEventId)
    if (i === undefined) return
    if (d.kind === "fired") {
      fired++
      pendingLag.push([Math.floor(i / options.batch), at])
    } else if (d.kind === "suppressed") suppressed++
  })
  const start = now()
  const cpu0 = engine.cpu()
  let sent = 0
  const timeline: Array<{ second: number; acked: number; decided: number }> = []
  const sampler = setInterval(() => {
    const sample = { second: Math.round((now() - start) / 1000), acked: accepted + rejected, decided: fired + suppressed }
    timeline.push(sample)
    options.progress(`  t=${sample.second}s acknowledged ${sample.acked.toLocaleString("en-US")} events, ${sample.decided.toLocaleString("en-US")} decisions seen`)
  }, 1_000)
  try {
    const producers = Array.from({ length: options.streams }, async (_, s) => {
      for (let b = s; b < batches && now() - start < options.ingestWindowMs; b += options.streams) {
        const batch = events.buffers.slice(b * options.batch, (b + 1) * options.batch)
        sent += batch.length
        const r = await engine.trackStream(s, batch)
        batchAcked[b] = now()
        accepted += r.accepted + r.duplicates
        rejected += r.rejected
      }
      await engine.trackStream(s, [markers.buffers[s]!])
    })
    // A call in flight at the end of the window may still take a while: bounded too.
    await withTimeout(Promise.all(producers), options.ingestWindowMs + 60_000, "throughput load")
    const ingestSeconds = (now() - start) / 1000
    const allFired = await waitUntil(() => markerFired.every((t) => !Number.isNaN(t)), options.drainTimeoutMs)
    const end = Math.max(...markerFired)
    const cores = (engine.cpu() - cpu0) / ((now() - start) / 1000)
    for (const [b, at] of pendingLag) lagSamples.push(Math.max(0, at - (Number.isNaN(batchAcked[b]!) ? at : batchAcked[b]!)))
    return {
      events: sent,
      planned: count,
      accepted,
      rejected,
      ingestSeconds,
      endToEndSeconds: allFired ? (end - start) / 1000 : undefined,
      fired,
      suppressed,
      decisionLag: quantiles(lagSamples),
      engineCores: cores,
      timeline
    }
  } finally {
    clearInterval(sampler)
  }
}
