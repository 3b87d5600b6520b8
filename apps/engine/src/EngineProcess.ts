import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"

/** The repository root, where `npm start` runs. */
export const root = path.resolve(import.meta.dirname, "../../..")

export interface Started {
  readonly child: ChildProcess
  /** Everything the process printed so far. */
  readonly output: () => string
  /** The port from the ready line (`address=host:port`), when it names one. */
  readonly port: number
}

/**
 * Starts a TypeScript entry point in its own Node process and waits for the
 * line saying it is ready: tests that kill an engine, and benchmarks that
 * keep the load generator off the server's CPU, both need a real process.
 */
export const startProcess = (entry: string, env: Record<string, string>, ready: RegExp = /ready/) =>
  new Promise<Started>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, entry)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    running.add(child)
    child.once("exit", () => running.delete(child))
    let output = ""
    let resolved = false
    const onData = (d: Buffer) => {
      output += d.toString()
      const line = output.split("\n").find((l) => ready.test(l))
      if (line !== undefined && !resolved) {
        resolved = true
        resolve({ child, output: () => output, port: Number(/(?:address=\S*:|port=)(\d+)/.exec(line)?.[1] ?? 0) })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code, signal) => {
      if (!resolved) reject(new Error(`${entry} exited (${code ?? signal}) before it was ready:\n${output}`))
    })
  })

export const startEngine = (env: Record<string, string>) =>
  startProcess("apps/engine/src/main.ts", { NUDGE_GRPC_ADDRESS: "127.0.0.1:0", ...env }, /Nudge engine ready/)

/** Engines started here that have not exited: killed when this process exits, so a failed test leaves none behind. */
const running = new Set<ChildProcess>()
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")))

export const stopProcess = (child: ChildProcess, signal: NodeJS.Signals = "SIGTERM") =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill(signal)
  })
