/**
 * The engine under test as a separate process, and the bench's view of it: raw Track and
 * TrackStream calls with pre-encoded messages, the rule set publication, and one WatchFirings
 * stream whose decisions go, stamped with their arrival time, to whichever phase is listening.
 */
import * as grpc from "@grpc/grpc-js"
import { startEngine, startProcess, stopProcess } from "@nudge/engine/EngineProcess"
import { AuditServiceClient, type Decision, RuleFormat, RuleServiceClient, TrackStreamResponse } from "@nudge/proto"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createClient } from "redis"
import { producerClient } from "./Load.js"
import { cpuSeconds } from "./ProcessCpu.js"

export class TimedOut extends Error {}

/** `promise`, or a `TimedOut` rejection after `ms`; the work itself is not cancelled (the engine is killed after a phase fails). */
export const withTimeout = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimedOut(`${what}: no result after ${(ms / 1000).toFixed(0)} s`)), ms)
    promise.then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      }
    )
  })

/** Resolves when `done()` holds (checked every 10 ms), or with false at the deadline. */
export const waitUntil = (done: () => boolean, ms: number) =>
  new Promise<boolean>((resolve) => {
    const deadline = performance.now() + ms
    const check = () => {
      if (done()) return resolve(true)
      if (performance.now() > deadline) return resolve(false)
      setTimeout(check, 10)
    }
    check()
  })

const identity = (b: Buffer) => b
const insecure = grpc.credentials.createInsecure()

/** Children still running, so the bench's watchdog can kill them if a phase hangs. */
export const running = new Set<ChildProcess>()


export type DecisionListener = (decision: Decision, arrivedAt: number) => void

export interface Engine {
  readonly address: string
  readonly pid: number | undefined
  readonly publish: (yaml: string) => Promise<number>
  /** One unary Track call with a pre-encoded request; `done` gets the error, if any. */
  readonly track: (message: Buffer, done: (error: grpc.ServiceError | null) => void) => void
  /** One TrackStream call carrying `messages`, resolved with the server's counts. */
  readonly trackStream: (client: number, messages: ReadonlyArray<Buffer>) => Promise<TrackStreamResponse>
  readonly listen: (listener: DecisionListener) => void
  /** Engine CPU seconds used so far. */
  readonly cpu: () => number
  readonly output: () => string
  readonly close: () => Promise<void>
}

/** The engine itself, or the no-op server that stands in for it as the baseline. */
export type Server = "engine" | "noop"

const start = (server: Server, env: Record<string, string>) =>
  server === "engine"
    ? startEngine(env)
    : startProcess("tools/bench/src/NoopEngineServer.ts", { NUDGE_GRPC_ADDRESS: "127.0.0.1:0", ...env }, /no-op engine ready/)

/**
 * Starts an engine on a fresh data folder, with `streams` separate channels for TrackStream
 * (like separate producers) and the WatchFirings stream open from the current head.
 */
export const open = async (env: Record<string, string>, streams: number, server: Server = "engine"): Promise<Engine> => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "nudge-e2e-"))
  const started = await withTimeout(start(server, { NUDGE_DATA_DIR: dataDir, ...env }), 60_000, `${server} start`)
  running.add(started.child)
  const address = `127.0.0.1:${started.port}`
  const unary = new grpc.Client(address, insecure)
  const producers = Array.from({ length: streams }, () => producerClient(address))
  const rules = new RuleServiceClient(address, insecure)
  const audit = new AuditServiceClient(address, insecure)
  let listener: DecisionListener = () => undefined
  let closing = false
  const watch = audit.watchFirings({ afterPosition: "", userId: "" })
  watch.on("data", (d: Decision) => listener(d, performance.now()))
  watch.on("error", (e) => {
    if (!closing) console.error(`WatchFirings failed: ${e.message}`)
  })

  return {
    address,
    pid: started.child.pid,
    publish: (yaml) =>
      new Promise((resolve, reject) =>
        rules.publishRules({ text: yaml, format: RuleFormat.RULE_FORMAT_YAML }, (e, r) => (e === null ? resolve(r!.ruleCount) : reject(e)))
      ),
    track: (message, done) => unary.makeUnaryRequest("/nudge.v1.IngestService/Track", identity, identity, message, (e) => done(e)),
    trackStream: (client, messages) =>
      new Promise((resolve, reject) => {
        const call = producers[client % producers.length]!.makeClientStreamRequest(
          "/nudge.v1.IngestService/TrackStream",
          identity,
          (b: Buffer) => TrackStreamResponse.decode(b),
          (e, r) => (e === null ? resolve(r!) : reject(e))
        )
        let i = 0
        const write = () => {
          while (i < messages.length) {
            if (!call.write(messages[i++])) return void call.once("drain", write)
          }
          call.end()
        }
        write()
      }),
    listen: (l) => {
      listener = l
    },
    cpu: () => cpuSeconds(started.child.pid),
    output: started.output,
    close: async () => {
      closing = true
      watch.cancel()
      ;[unary, rules, audit, ...producers].forEach((c) => c.close())
      const exited = stopProcess(started.child)
      const killer = setTimeout(() => started.child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(killer)
      running.delete(started.child)
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** Deletes the keys matching `patterns` with SCAN + UNLINK; the number deleted. */
export const deleteRedisKeys = async (url: string, patterns: ReadonlyArray<string>) => {
  const client = createClient({ url, socket: { connectTimeout: 3_000, reconnectStrategy: false } })
  client.on("error", () => undefined)
  await client.connect()
  try {
    let deleted = 0
    for (const pattern of patterns) {
      for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1_000 })) {
        if (keys.length > 0) deleted += await client.unlink(keys)
      }
    }
    return deleted
  } finally {
    await client.close()
  }
}
