import { status } from "@grpc/grpc-js"
import { assert, describe, it } from "@effect/vitest"
import { RuleFormat } from "@nudge/proto"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as FakeEngine from "./FakeEngine.js"
import * as SampleDecisions from "./SampleDecisions.js"
import * as TempFile from "./TempFile.js"

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const { NUDGE_GRPC_ADDRESS: _, ...inheritedEnv } = process.env

interface RunOptions {
  readonly env?: Record<string, string>
  /** For commands that follow until Ctrl-C: send SIGINT once this many lines are on stdout. */
  readonly interruptAfterLines?: number
}

/** Runs `nudge` as a user would, asynchronously so the in-test engine keeps serving. */
const nudge = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
  Effect.async<Run>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", main, ...args], { env: { ...inheritedEnv, ...options.env } })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (options.interruptAfterLines !== undefined && stdout.split("\n").length > options.interruptAfterLines) {
        child.kill("SIGINT")
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("close", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => `nudge ${args.join(" ")} did not exit` }))

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
        env: { NUDGE_GRPC_ADDRESS: engine.address }
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
      const file = yield* TempFile.make("events.ndjson", `{"messageId":"m-1","userId":"u-1","name":"Signed Up"}\nnot json\n`)
      const run = yield* nudge(["load", file, "--batch", "10", "--address", engine.address])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^accepted {4}1\nduplicates {2}0\nrejected {4}1\n {2}line 2: not valid JSON/)
      assert.strictEqual(engine.streamCalls.length, 1)
    }))

  it.scopedLive("publishes a rule file in the format its extension names and prints the new version", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({
        rules: [{ id: "welcome-back", version: 1, name: "", priority: 0, group: "", journey: "onboarding", consent: "" }]
      })
      const text = `{"rules":[{"id":"welcome-back"}]}\n`
      const file = yield* TempFile.make("rules.json", text)

      const run = yield* nudge(["rules", "publish", file, "--address", engine.address])

      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, "published version 1 (1 rule) at position 1\n")
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.publishRequests), [{ text, format: RuleFormat.RULE_FORMAT_JSON }])
    }))

  it.scopedLive("shows every issue of a refused rule set on its own line and exits 1", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      engine.failure = { code: status.INVALID_ARGUMENT, details: "rules[0].id: is required\nrules[1].cooldown: expected a duration" }
      const file = yield* TempFile.make("rules.yaml", "rules: [{}, {cooldown: soon}]\n")

      const run = yield* nudge(["--address", engine.address, "rules", "publish", file])

      assert.strictEqual(run.code, 1)
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(run.stderr, "error: INVALID_ARGUMENT:\n  rules[0].id: is required\n  rules[1].cooldown: expected a duration\n")
      assert.strictEqual(engine.publishRequests[0]!.format, RuleFormat.RULE_FORMAT_YAML)
    }))

  it.scopedLive("lists the rules in effect as a table, or as the text published", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({
        rules: [{ id: "welcome-back", version: 2, name: "", priority: 10, group: "", journey: "onboarding", consent: "marketing" }]
      })
      const text = "rules:\n  - id: welcome-back\n"
      yield* nudge(["rules", "publish", yield* TempFile.make("rules.yml", text), "--address", engine.address])

      const table = yield* nudge(["rules", "list", "--address", engine.address])
      const published = yield* nudge(["rules", "list", "--text", "--address", engine.address])

      assert.strictEqual(table.code, 0, table.stderr)
      assert.strictEqual(
        table.stdout,
        "rule set version 1\nID            VERSION  PRIORITY  GROUP  JOURNEY     CONSENT\nwelcome-back  2        10        -      onboarding  marketing\n"
      )
      assert.strictEqual(published.code, 0, published.stderr)
      assert.strictEqual(published.stdout, text)
    }))

  it.scopedLive("backtests a draft and prints what it scanned and each rule's outcome", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({
        backtest: { users: 2, events: 9, rules: [{ ruleId: "welcome-back", firings: 2, suppressedByCooldown: 1, sampleUsers: ["u-1", "u-2"] }] }
      })
      const file = yield* TempFile.make("draft.yaml", "rules: []\n")

      const run = yield* nudge(["backtest", file, "--from", "2024-05-01T00:00:00Z", "--sample", "2", "--address", engine.address])

      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(
        run.stdout,
        "scanned 2 users, 9 events\nRULE          FIRINGS  SUPPRESSED BY COOLDOWN  SAMPLE USERS\nwelcome-back  2        1                       u-1 u-2\n"
      )
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.backtestRequests), [
        { text: "rules: []\n", format: RuleFormat.RULE_FORMAT_YAML, from: "2024-05-01T00:00:00Z", to: "", sampleSize: 2 }
      ])
    }))

  it.scopedLive("prints a user's decisions one per line, oldest first, following the pages", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all, pageCap: 1 })

      const run = yield* nudge(["firings", "--user", "u-1", "--address", engine.address])

      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(
        run.stdout,
        [
          "fired welcome-back@2 at=2024-05-01T10:00:00.250Z firing=f-1 journey=onboarding experiment=copy-test variant=B position=12",
          "suppressed welcome-back@2 reason=cooldown at=2024-05-01T11:00:00.000Z firing=f-2 position=15",
          ""
        ].join("\n")
      )
    }))

  it.scopedLive("explains a firing, and exits 1 with NOT_FOUND for one the engine does not know", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const known = yield* nudge(["explain", "f-2", "--address", engine.address])
      const unknown = yield* nudge(["explain", "f-404", "--address", engine.address])

      assert.strictEqual(known.code, 0, known.stderr)
      assert.include(known.stdout, "firing       f-2\n")
      assert.include(known.stdout, "reason       cooldown\n")
      assert.match(known.stdout, /explanation:\n\{\}\n$/)
      assert.strictEqual(unknown.code, 1)
      assert.strictEqual(unknown.stderr, "error: NOT_FOUND: firing f-404 not found\n")
    }))

  it.scopedLive("watches decisions as they are streamed and stops on Ctrl-C", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ decisions: SampleDecisions.all })

      const run = yield* nudge(["watch", "--user", "u-1", "--address", engine.address], { interruptAfterLines: 2 })

      assert.strictEqual(run.stdout, [
        "fired welcome-back@2 at=2024-05-01T10:00:00.250Z firing=f-1 journey=onboarding experiment=copy-test variant=B position=12",
        "suppressed welcome-back@2 reason=cooldown at=2024-05-01T11:00:00.000Z firing=f-2 position=15",
        ""
      ].join("\n"))
      assert.strictEqual(run.stderr, "")
      assert.strictEqual(run.code, 0)
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.watchRequests), [{ userId: "u-1", afterPosition: "" }])
    }))

  it.live("exits 2 with usage on arguments the new commands do not accept", () =>
    Effect.gen(function* () {
      const runs = yield* Effect.all([
        nudge(["rules", "publish", "rules.txt"]),
        nudge(["backtest", "draft.yaml", "--sample", "many"]),
        nudge(["explain"])
      ], { concurrency: "unbounded" })

      for (const run of runs) {
        assert.strictEqual(run.code, 2, run.stderr)
        assert.match(run.stderr, /^error: .*\n\nUsage: nudge <command>/)
      }
    }))
})
