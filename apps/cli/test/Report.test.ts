import { assert, describe, it } from "@effect/vitest"
import { LoadSummary, Report } from "../src/index.js"

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
})
