import { assert, describe, it } from "@effect/vitest"
import { RuleFormat } from "@nudge/proto"
import { Either } from "effect"
import { Args } from "../src/index.js"

const address = "engine:50051"

const parsed = (...argv: Array<string>) => {
  const result = Args.parse(argv, address)
  if (Either.isLeft(result)) assert.fail(`expected ${argv.join(" ")} to parse, got: ${result.left.message}`)
  return result.right
}

const usageError = (...argv: Array<string>) => {
  const result = Args.parse(argv, address)
  if (Either.isRight(result)) assert.fail(`expected ${argv.join(" ")} to be rejected`)
  return result.left.message
}

describe("Args.parseValue", () => {
  it("reads valid JSON as JSON and anything else as the string itself", () => {
    assert.strictEqual(Args.parseValue("42"), 42)
    assert.strictEqual(Args.parseValue("-1.5"), -1.5)
    assert.strictEqual(Args.parseValue("true"), true)
    assert.strictEqual(Args.parseValue("null"), null)
    assert.strictEqual(Args.parseValue(`"42"`), "42")
    assert.deepStrictEqual(Args.parseValue(`{"plan":"pro","seats":3}`), { plan: "pro", seats: 3 })
    assert.deepStrictEqual(Args.parseValue("[1,2]"), [1, 2])
    assert.strictEqual(Args.parseValue("pro"), "pro")
    assert.strictEqual(Args.parseValue("{not json"), "{not json")
    assert.strictEqual(Args.parseValue(""), "")
  })
})

describe("Args.parseAssignments", () => {
  it("splits at the first '=' so values may contain '='", () => {
    assert.deepStrictEqual(
      Args.parseAssignments("--prop", ["plan=pro", "seats=3", "query=a=b", "empty="]),
      Either.right({ plan: "pro", seats: 3, query: "a=b", empty: "" })
    )
  })

  it("keeps the last value of a repeated key", () => {
    assert.deepStrictEqual(Args.parseAssignments("--trait", ["plan=free", "plan=pro"]), Either.right({ plan: "pro" }))
  })

  it("rejects an assignment without a key", () => {
    const result = Args.parseAssignments("--prop", ["plan"])
    assert.isTrue(Either.isLeft(result))
    assert.isTrue(Either.isLeft(Args.parseAssignments("--prop", ["=pro"])))
  })
})

describe("Args.parse", () => {
  it("reads track with its properties, message id and occurrence time", () => {
    assert.deepStrictEqual(
      parsed("track", "--user", "u-1", "--event", "Viewed Pricing", "--prop", "plan=pro", "--prop", "seats=3", "--message-id", "m-1", "--at", "2024-05-01T10:00:00Z"),
      Args.Invocation.Track({
        address,
        userId: "u-1",
        event: "Viewed Pricing",
        properties: { plan: "pro", seats: 3 },
        messageId: "m-1",
        occurredAt: new Date("2024-05-01T10:00:00Z")
      })
    )
  })

  it("leaves the message id to be generated when absent", () => {
    const invocation = parsed("track", "--user", "u-1", "--event", "Signed Up")
    assert.strictEqual(invocation._tag, "Track")
    if (invocation._tag === "Track") {
      assert.isUndefined(invocation.messageId)
      assert.isUndefined(invocation.occurredAt)
      assert.deepStrictEqual(invocation.properties, {})
    }
  })

  it("takes --address before or after the command over the default", () => {
    const tailFrom = (address: string) =>
      Args.Invocation.Tail({ address, fromStart: false, afterPosition: undefined, streamPrefixes: [] })
    assert.deepStrictEqual(parsed("--address", "10.0.0.1:9", "tail"), tailFrom("10.0.0.1:9"))
    assert.deepStrictEqual(parsed("tail", "--address=10.0.0.1:9"), tailFrom("10.0.0.1:9"))
    assert.deepStrictEqual(parsed("tail"), tailFrom(address))
  })

  it("reads identify and consent", () => {
    assert.deepStrictEqual(
      parsed("identify", "--user", "u-1", "--trait", "plan=pro"),
      Args.Invocation.Identify({ address, userId: "u-1", traits: { plan: "pro" }, messageId: undefined, occurredAt: undefined })
    )
    const granted = parsed("consent", "--user", "u-1", "--category", "marketing", "--granted")
    const revoked = parsed("consent", "--user", "u-1", "--category", "marketing", "--revoked")
    assert.isTrue(granted._tag === "Consent" && granted.granted)
    assert.isTrue(revoked._tag === "Consent" && !revoked.granted)
  })

  it("reads load with its file and batch size, 1000 by default", () => {
    assert.deepStrictEqual(parsed("load", "events.ndjson"), Args.Invocation.Load({ address, file: "events.ndjson", batchSize: 1000 }))
    assert.deepStrictEqual(
      parsed("load", "events.ndjson", "--batch", "250"),
      Args.Invocation.Load({ address, file: "events.ndjson", batchSize: 250 })
    )
  })

  it("reads tail with repeated prefixes", () => {
    assert.deepStrictEqual(
      parsed("tail", "--from-start", "--after", "42", "--prefix", "user-", "--prefix", "firing-"),
      Args.Invocation.Tail({ address, fromStart: true, afterPosition: "42", streamPrefixes: ["user-", "firing-"] })
    )
  })

  it("reads rules publish with the format its file's extension names", () => {
    assert.deepStrictEqual(
      parsed("rules", "publish", "rules.json"),
      Args.Invocation.PublishRules({ address, file: "rules.json", format: RuleFormat.RULE_FORMAT_JSON })
    )
    assert.deepStrictEqual(
      parsed("rules", "publish", "conf/Rules.YAML"),
      Args.Invocation.PublishRules({ address, file: "conf/Rules.YAML", format: RuleFormat.RULE_FORMAT_YAML })
    )
    assert.deepStrictEqual(
      parsed("--address", "10.0.0.1:9", "rules", "publish", "rules.yml"),
      Args.Invocation.PublishRules({ address: "10.0.0.1:9", file: "rules.yml", format: RuleFormat.RULE_FORMAT_YAML })
    )
  })

  it("reads rules list, as a table unless --text", () => {
    assert.deepStrictEqual(parsed("rules", "list"), Args.Invocation.ListRules({ address, text: false }))
    assert.deepStrictEqual(parsed("rules", "list", "--text"), Args.Invocation.ListRules({ address, text: true }))
  })

  it("reads backtest with its range, in either spelling, and sample size", () => {
    assert.deepStrictEqual(
      parsed("backtest", "draft.yaml", "--from", "2024-05-01T00:00:00Z", "--to", "1714600000000", "--sample", "5"),
      Args.Invocation.Backtest({
        address,
        file: "draft.yaml",
        format: RuleFormat.RULE_FORMAT_YAML,
        from: "2024-05-01T00:00:00Z",
        to: "1714600000000",
        sampleSize: 5
      })
    )
    assert.deepStrictEqual(
      parsed("backtest", "draft.json"),
      Args.Invocation.Backtest({
        address,
        file: "draft.json",
        format: RuleFormat.RULE_FORMAT_JSON,
        from: undefined,
        to: undefined,
        sampleSize: undefined
      })
    )
  })

  it("reads firings, explain and watch", () => {
    assert.deepStrictEqual(parsed("firings", "--user", "u-1"), Args.Invocation.ListFirings({ address, userId: "u-1" }))
    assert.deepStrictEqual(parsed("explain", "f-1"), Args.Invocation.Explain({ address, firingId: "f-1" }))
    assert.deepStrictEqual(
      parsed("watch", "--user", "u-1", "--after", "42"),
      Args.Invocation.Watch({ address, userId: "u-1", afterPosition: "42" })
    )
    assert.deepStrictEqual(parsed("watch"), Args.Invocation.Watch({ address, userId: undefined, afterPosition: undefined }))
  })

  it("asks for help wherever --help appears", () => {
    assert.strictEqual(parsed("--help")._tag, "Help")
    assert.strictEqual(parsed("track", "-h")._tag, "Help")
  })

  it("rejects what it does not understand", () => {
    assert.include(usageError(), "command is required")
    assert.include(usageError("frobnicate"), `unknown command "frobnicate"`)
    assert.include(usageError("toString"), "unknown command")
    assert.include(usageError("track", "--user", "u", "--event", "E", "--verbose"), "--verbose")
    assert.include(usageError("track", "--user", "u", "--event", "E", "--batch", "3"), "track does not take --batch")
    assert.include(usageError("track", "--event", "E"), "--user is required")
    assert.include(usageError("track", "--user", "u"), "--event is required")
    assert.include(usageError("track", "--user", "u", "--event", "E", "--prop", "plan"), "key=value")
    assert.include(usageError("track", "--user", "u", "--event", "E", "--at", "yesterday"), "--at")
    assert.include(usageError("consent", "--user", "u", "--category", "c"), "--granted")
    assert.include(usageError("consent", "--user", "u", "--category", "c", "--granted", "--revoked"), "--granted")
    assert.include(usageError("load"), "load takes 1 argument")
    assert.include(usageError("load", "a.ndjson", "b.ndjson"), "load takes 1 argument")
    assert.include(usageError("load", "a.ndjson", "--batch", "0"), "--batch")
    assert.include(usageError("load", "a.ndjson", "--batch", "ten"), "--batch")
    assert.include(usageError("tail", "extra"), "tail takes no arguments")
    assert.include(usageError("rules"), "rules expects one of publish, list")
    assert.include(usageError("rules", "delete"), `rules expects one of publish, list, got "delete"`)
    assert.include(usageError("rules", "publish"), "rules publish takes 1 argument")
    assert.include(usageError("rules", "publish", "rules.txt"), "rules.txt")
    assert.include(usageError("rules", "publish", "rules"), ".json, .yaml or .yml")
    assert.include(usageError("rules", "publish", "rules.yaml", "--text"), "rules publish does not take --text")
    assert.include(usageError("rules", "list", "extra"), "rules list takes no arguments")
    assert.include(usageError("backtest"), "backtest takes 1 argument")
    assert.include(usageError("backtest", "draft.toml"), ".json, .yaml or .yml")
    assert.include(usageError("backtest", "draft.yaml", "--from", "yesterday"), "--from")
    assert.include(usageError("backtest", "draft.yaml", "--to", "2024-13-45"), "--to")
    assert.include(usageError("backtest", "draft.yaml", "--sample", "0"), "--sample")
    assert.include(usageError("backtest", "draft.yaml", "--user", "u"), "backtest does not take --user")
    assert.include(usageError("firings"), "--user is required")
    assert.include(usageError("firings", "--user", "u", "--after", "3"), "firings does not take --after")
    assert.include(usageError("explain"), "explain takes 1 argument")
    assert.include(usageError("watch", "u-1"), "watch takes no arguments")
  })
})
