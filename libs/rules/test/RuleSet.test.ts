import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { Duration, RuleSet } from "../src/index.js"
import { scenarioRules } from "./scenarioRules.js"

const ruleYaml = (id: string, when: string) => `
  - id: ${id}
    version: 1
    name: ${id}
    priority: 1
    cooldown: 7d
    action: { journey: j }
    when:
${when.replace(/^/gm, "      ")}`

const set = (...rules: Array<string>) => `rules:${rules.join("")}`

const issues = (text: string, format: "yaml" | "json" = "yaml") =>
  Either.match(RuleSet.parseRuleSet(text, format), {
    onLeft: (error) => error.issues.map((i) => `${i.path}: ${i.message}`),
    onRight: () => assert.fail("expected the rule set to be rejected")
  })

const ok = ruleYaml("ok", "event: { name: X, within: 1h }")

describe("parseRuleSet", () => {
  it("accepts every scenario rule, in YAML and as the equivalent JSON", () => {
    const fromYaml = Either.getOrThrow(RuleSet.parseRuleSet(scenarioRules, "yaml"))
    assert.strictEqual(fromYaml.rules.length, 6)
    const asJson = JSON.stringify(Either.getOrThrow(RuleSet.parseRuleSet(scenarioRules, "yaml")), (_, v) =>
      typeof v === "number" && v >= 1000 ? Duration.format(v) : v
    )
    assert.deepStrictEqual(Either.getOrThrow(RuleSet.parseRuleSet(asJson, "json")), fromYaml)
  })

  it("names the path of a bad duration, and rejects the whole set", () => {
    const text = set(ok, ok.replace("ok", "ok2"), ok.replace("ok", "ok3"), ruleYaml("bad", "all:\n  - event: { name: X, within: 1h }\n  - event: { name: Y, within: -48h }"))
    assert.deepStrictEqual(issues(text), [`rules[3].when.all[1].event.within: expected a duration like "48h"`])
  })

  it("rejects an unknown operator", () => {
    assert.match(issues(set(ruleYaml("a", "event: { name: X, within: 1h, where: { tier: { equals: x } } }")))[0]!, /^rules\[0\]\.when\.event\.where\.tier\.equals: is unexpected/)
  })

  it("rejects an unknown condition", () => {
    assert.deepStrictEqual(issues(set(ruleYaml("a", "both: []"))), [
      "rules[0].when: expected a condition with exactly one of: all, any, not, event, absent, sequence, trait"
    ])
  })

  it("rejects an empty condition", () => {
    assert.deepStrictEqual(issues(set(ruleYaml("a", "any: []"))), ["rules[0].when.any: expected at least one condition"])
    assert.deepStrictEqual(issues(set(ruleYaml("a", "trait: {}"))), ["rules[0].when.trait: expected at least one predicate"])
  })

  it("rejects a cyclic condition (a YAML alias to its own ancestor)", () => {
    assert.deepStrictEqual(issues(set(ruleYaml("a", "&loop\nall:\n  - *loop"))), [
      "rules[0].when.all[0]: cyclic condition: a YAML alias refers to its own ancestor"
    ])
  })

  it("rejects duplicate ids", () => {
    assert.deepStrictEqual(issues(set(ok, ok)), [`rules[1].id: duplicate rule id "ok" (first at rules[0])`])
  })

  it("rejects a bad regular expression", () => {
    assert.match(issues(set(ruleYaml("a", "event: { name: X, within: 1h, where: { email: { matches: '([a-z' } } }")))[0]!, /^rules\[0\]\.when\.event\.where\.email\.matches: invalid regular expression/)
  })

  it("reports every issue at once, and text that is not YAML or JSON", () => {
    const text = set(ruleYaml("a", "event: { name: X, within: soon }").replace("priority: 1", "priority: 1.5"))
    assert.deepStrictEqual(issues(text), ["rules[0].priority: expected an integer", `rules[0].when.event.within: expected a duration like "48h"`])
    assert.deepStrictEqual(issues(set(ruleYaml("a", "event: { name: X, within: 0h }"))), [
      `rules[0].when.event.within: expected a duration like "48h", greater than zero`
    ])
    assert.match(issues("{ rules: [", "json")[0]!, /^: invalid JSON/)
  })
  it("refuses rule versions and priorities that the protobuf fields carrying them cannot hold", () => {
    const numbered = (version: number, priority: number) =>
      set(ok.replace("version: 1", `version: ${version}`).replace("priority: 1", `priority: ${priority}`))
    assert.deepStrictEqual(issues(numbered(5_000_000_000, 10_000_000_000)), [
      "rules[0].version: expected an integer from 1 to 4294967295",
      "rules[0].priority: expected an integer from -2147483648 to 2147483647"
    ])
    assert.deepStrictEqual(issues(numbered(0, -2_147_483_649)), [
      "rules[0].version: expected an integer from 1 to 4294967295",
      "rules[0].priority: expected an integer from -2147483648 to 2147483647"
    ])
    assert.isTrue(Either.isRight(RuleSet.parseRuleSet(numbered(4_294_967_295, 2_147_483_647), "yaml")))
    assert.isTrue(Either.isRight(RuleSet.parseRuleSet(numbered(1, -2_147_483_648), "yaml")))
  })

  describe("nesting", () => {
    const leaf = { event: { name: "X", within: "1h" } }
    const ruleSetOf = (when: unknown) =>
      JSON.stringify({ rules: [{ id: "a", version: 1, name: "a", priority: 1, cooldown: "0s", action: { journey: "j" }, when }] })
    const wrapped = (levels: number, wrap: (condition: unknown) => unknown) => {
      let condition: unknown = leaf
      for (let i = 0; i < levels; i++) condition = wrap(condition)
      return ruleSetOf(condition)
    }
    const allOf = (condition: unknown) => ({ all: [condition] })
    const notOf = (condition: unknown) => ({ not: condition })
    // The rule set, `rules`, the rule, `when` and `event` are five levels: `not`s add one each.
    const notsAtTheLimit = RuleSet.maxDepth - 5

    it("refuses 1,000 levels of `all` with the depth message, in JSON and in YAML, without overflowing the stack", () => {
      const text = wrapped(1_000, allOf)
      const [json] = issues(text, "json")
      assert.match(json!, /^rules\[0\]\.when(\.all\[0\])+\.all: nested more than 128 levels deep$/)
      assert.deepStrictEqual(issues(text, "yaml"), [": nested more than 128 levels deep"])
    })

    it("accepts nesting up to the limit, and refuses one level more", () => {
      assert.isTrue(Either.isRight(RuleSet.parseRuleSet(wrapped(notsAtTheLimit, notOf), "json")))
      assert.match(issues(wrapped(notsAtTheLimit + 1, notOf), "json")[0]!, /: nested more than 128 levels deep$/)
      assert.isTrue(Either.isRight(RuleSet.parseRuleSet(wrapped(60, allOf), "yaml")))
    })
  })
})

describe("Duration", () => {
  it("parses and formats", () => {
    assert.strictEqual(Duration.parse("1h30m"), 5_400_000)
    assert.strictEqual(Duration.parse("48 h"), undefined)
    assert.strictEqual(Duration.format(172_800_000), "2d")
    assert.strictEqual(Duration.format(1_500), "1500ms")
  })
})
