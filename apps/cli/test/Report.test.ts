import { assert, describe, it } from "@effect/vitest"
import { LoadSummary, Report, RpcError } from "../src/index.js"
import * as SampleDecisions from "./SampleDecisions.js"

describe("Report", () => {
  it("prints an acknowledgement as key=value pairs", () => {
    assert.strictEqual(
      Report.acknowledgement({ eventId: "e-1", position: "42", duplicate: true }),
      "event_id=e-1 position=42 duplicate=true"
    )
  })

  it("summarises a load with its first rejections and how many were left out", () => {
    const summary: LoadSummary.LoadSummary = {
      lines: 2000,
      calls: 2,
      accepted: 1990,
      duplicates: 5,
      rejected: 5,
      rejections: [
        { line: 3, messageId: undefined, reason: "not valid JSON (Unexpected end of JSON input)" },
        { line: 9, messageId: "m-9", reason: "name: is required" }
      ],
      elapsedMillis: 4000
    }
    assert.strictEqual(
      Report.loadSummary(summary),
      [
        "accepted    1990",
        "duplicates  5",
        "rejected    5",
        "  line 3: not valid JSON (Unexpected end of JSON input)",
        "  line 9 (m-9): name: is required",
        "  ... and 3 more",
        "2000 lines in 2 calls, 4.0s, 500 events/s"
      ].join("\n")
    )
    assert.strictEqual(LoadSummary.rate(LoadSummary.empty), 0)
  })

  it("draws a progress bar for the share of the file read", () => {
    assert.strictEqual(Report.progressBar(0, 10), "[----------]   0%")
    assert.strictEqual(Report.progressBar(0.5, 10), "[#####-----]  50%")
    assert.strictEqual(Report.progressBar(1, 10), "[##########] 100%")
  })

  it("prints a failed call on one line, or each of the engine's issues on its own indented line", () => {
    assert.strictEqual(
      Report.rpcError(new RpcError({ status: "NOT_FOUND", details: "firing f-9 not found" })),
      "error: NOT_FOUND: firing f-9 not found"
    )
    assert.strictEqual(
      Report.rpcError(new RpcError({ status: "INVALID_ARGUMENT", details: "rules[0].id: is required\nrules[2].when.within: expected a duration" })),
      "error: INVALID_ARGUMENT:\n  rules[0].id: is required\n  rules[2].when.within: expected a duration"
    )
  })

  it("prints a publication with its version, rule count and position", () => {
    assert.strictEqual(
      Report.publication({ version: 3, ruleCount: 12, position: "981" }),
      "published version 3 (12 rules) at position 981"
    )
    assert.strictEqual(Report.publication({ version: 1, ruleCount: 1, position: "7" }), "published version 1 (1 rule) at position 7")
  })

  it("tabulates the rules in effect under the set's version, a dash for what a rule does not set", () => {
    assert.strictEqual(
      Report.ruleSet({
        version: 4,
        text: "",
        rules: [
          { id: "welcome-back", version: 2, name: "", priority: 10, group: "", journey: "onboarding", consent: "marketing" },
          { id: "cart", version: 11, name: "", priority: -1, group: "promos", journey: "abandoned-cart", consent: "" }
        ]
      }),
      [
        "rule set version 4",
        "ID            VERSION  PRIORITY  GROUP   JOURNEY         CONSENT",
        "welcome-back  2        10        -       onboarding      marketing",
        "cart          11       -1        promos  abandoned-cart  -"
      ].join("\n")
    )
    assert.strictEqual(Report.ruleSet({ version: 0, text: "", rules: [] }), "no rule set published yet")
  })

  it("prints a backtest: what was scanned, then each rule's firings, cooldown suppressions and sample users", () => {
    assert.strictEqual(
      Report.backtest({
        users: 120,
        events: 3400,
        rules: [
          { ruleId: "welcome-back", firings: 14, suppressedByCooldown: 3, sampleUsers: ["u-1", "u-7"] },
          { ruleId: "cart", firings: 0, suppressedByCooldown: 0, sampleUsers: [] }
        ]
      }),
      [
        "scanned 120 users, 3400 events",
        "RULE          FIRINGS  SUPPRESSED BY COOLDOWN  SAMPLE USERS",
        "welcome-back  14       3                       u-1 u-7",
        "cart          0        0                       -"
      ].join("\n")
    )
  })

  it("prints a decision on one line, leaving out what is not set", () => {
    assert.strictEqual(
      Report.decision(SampleDecisions.fired),
      "fired welcome-back@2 at=2024-05-01T10:00:00.250Z firing=f-1 journey=onboarding experiment=copy-test variant=B position=12"
    )
    assert.strictEqual(
      Report.decision(SampleDecisions.suppressed),
      "suppressed welcome-back@2 reason=cooldown at=2024-05-01T11:00:00.000Z firing=f-2 position=15"
    )
  })

  it("explains a decision with its fields and the explanation indented", () => {
    assert.strictEqual(
      Report.explanation(SampleDecisions.fired),
      [
        "kind         fired",
        "firing       f-1",
        "user         u-1",
        "rule         welcome-back@2",
        "cause event  e-7",
        "at           2024-05-01T10:00:00.250Z",
        "journey      onboarding",
        "experiment   copy-test",
        "variant      B",
        "position     12",
        "explanation:",
        "{",
        `  "all": [`,
        "    {",
        `      "event": "Signed Up",`,
        `      "held": true,`,
        `      "by": [`,
        `        "e-7"`,
        "      ]",
        "    }",
        "  ]",
        "}"
      ].join("\n")
    )
  })
})
