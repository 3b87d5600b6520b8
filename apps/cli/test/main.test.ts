import { status } from "@grpc/grpc-js"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as FakeEngine from "./FakeEngine.js"

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const { NUDGE_GRPC_ADDRESS: _, ...inheritedEnv } = process.env

/** Runs `nudge` as a user would, asynchronously so the in-test engine keeps serving. */
const nudge = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.async<Run>((resume) => {
    execFile(
      process.execPath,
      ["--import", "tsx", main, ...args],
      { env: { ...inheritedEnv, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
  })

describe("nudge", () => {
  it.live("prints usage and exits 2 on an unknown command", () =>
    Effect.gen(function* () {
      const run = yield* nudge(["frobnicate"])
      assert.strictEqual(run.code, 2)
      assert.include(run.stderr, `error: unknown command "frobnicate"`)
      assert.include(run.stderr, "Usage: nudge <command>")
    }))

  it.live("prints usage on stdout and exits 0 on --help", () =>
    Effect.gen(function* () {
      const run = yield* nudge(["--help"])
      assert.strictEqual(run.code, 0)
      assert.include(run.stdout, "Usage: nudge <command>")
    }))

  it.scopedLive("tracks against the engine named by NUDGE_GRPC_ADDRESS", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      const run = yield* nudge(["track", "--user", "u-1", "--event", "Signed Up", "--message-id", "m-1"], {
        NUDGE_GRPC_ADDRESS: engine.address
      })
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, "event_id=event-m-1 position=1 duplicate=false\n")
    }))

  it.scopedLive("prints the status of a failed call and exits 1", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      engine.failure = { code: status.INVALID_ARGUMENT, details: "name: is required" }
      const run = yield* nudge(["--address", engine.address, "consent", "--user", "u-1", "--category", "c", "--granted"])
      assert.strictEqual(run.code, 1)
      assert.strictEqual(run.stderr, "error: INVALID_ARGUMENT: name: is required\n")
    }))

  it.scopedLive("loads a file and prints the summary", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "nudge-cli-"))),
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
      )
      const file = join(dir, "events.ndjson")
      yield* Effect.promise(() =>
        writeFile(file, `{"messageId":"m-1","userId":"u-1","name":"Signed Up"}\nnot json\n`)
      )
      const run = yield* nudge(["load", file, "--batch", "10", "--address", engine.address])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^accepted {4}1\nduplicates {2}0\nrejected {4}1\n {2}line 2: not valid JSON/)
      assert.strictEqual(engine.streamCalls.length, 1)
    }))
})
