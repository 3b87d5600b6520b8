import { status } from "@grpc/grpc-js"
import { assert, describe, it } from "@effect/vitest"
import { RuleFormat } from "@nudge/proto"
import type { RuleSummary } from "@nudge/proto"
import { Effect } from "effect"
import { Rules } from "../src/index.js"
import * as FakeEngine from "./FakeEngine.js"
import * as TempFile from "./TempFile.js"

const yamlRules = `rules:\n  - id: welcome-back\n    when: { event: Signed Up }\n`

const summaries: ReadonlyArray<RuleSummary> = [
  { id: "welcome-back", version: 2, name: "Welcome back", priority: 10, group: "", journey: "onboarding", consent: "marketing" }
]

describe("Rules", () => {
  it.scoped("publish sends the file's text in the format given and returns the new version", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ rules: summaries })
      const file = yield* TempFile.make("rules.yml", yamlRules)

      const response = yield* Rules.publish(engine.address, { file, format: RuleFormat.RULE_FORMAT_YAML })

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.publishRequests), [
        { text: yamlRules, format: RuleFormat.RULE_FORMAT_YAML }
      ])
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(response), { version: 1, position: "1", ruleCount: 1 })
    }))

  it.scoped("publish of a refused rule set fails with the engine's status and every issue", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()
      engine.failure = { code: status.INVALID_ARGUMENT, details: "rules[0].id: is required\nrules[1].when: unknown operator" }
      const file = yield* TempFile.make("rules.json", `{"rules":[{},{}]}`)

      const error = yield* Effect.flip(Rules.publish(engine.address, { file, format: RuleFormat.RULE_FORMAT_JSON }))

      assert.strictEqual(error._tag, "RpcError")
      if (error._tag === "RpcError") {
        assert.strictEqual(error.status, "INVALID_ARGUMENT")
        assert.strictEqual(error.details, "rules[0].id: is required\nrules[1].when: unknown operator")
      }
      assert.strictEqual(engine.publishRequests[0]!.format, RuleFormat.RULE_FORMAT_JSON)
    }))

  it.scoped("publish of a file that cannot be read fails before calling the engine", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make()

      const error = yield* Effect.flip(
        Rules.publish(engine.address, { file: "/nonexistent/rules.yaml", format: RuleFormat.RULE_FORMAT_YAML })
      )

      assert.strictEqual(error._tag, "InputError")
      if (error._tag === "InputError") {
        assert.strictEqual(error.path, "/nonexistent/rules.yaml")
        assert.include(error.reason, "ENOENT")
      }
      assert.lengthOf(engine.publishRequests, 0)
    }))

  it.scoped("list returns the version, the rules and the text in effect", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({ rules: summaries })
      const file = yield* TempFile.make("rules.yaml", yamlRules)

      const before = yield* Rules.list(engine.address)
      yield* Rules.publish(engine.address, { file, format: RuleFormat.RULE_FORMAT_YAML })
      const after = yield* Rules.list(engine.address)

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(before), { version: 0, rules: [], text: "" })
      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(after), { version: 1, rules: [...summaries], text: yamlRules })
    }))

  it.scoped("backtest sends the draft with its range and sample size, blanks for what was not given", () =>
    Effect.gen(function* () {
      const engine = yield* FakeEngine.make({
        backtest: { users: 3, events: 40, rules: [{ ruleId: "welcome-back", firings: 2, suppressedByCooldown: 1, sampleUsers: ["u-1"] }] }
      })
      const file = yield* TempFile.make("draft.json", `{"rules":[]}`)

      const response = yield* Rules.backtest(engine.address, {
        file,
        format: RuleFormat.RULE_FORMAT_JSON,
        from: "2024-05-01T00:00:00Z",
        sampleSize: 5
      })

      assert.deepStrictEqual(FakeEngine.withoutUnknownFields(engine.backtestRequests), [
        { text: `{"rules":[]}`, format: RuleFormat.RULE_FORMAT_JSON, from: "2024-05-01T00:00:00Z", to: "", sampleSize: 5 }
      ])
      assert.strictEqual(response.users, 3)
      assert.strictEqual(response.rules[0]!.suppressedByCooldown, 1)
    }))
})
