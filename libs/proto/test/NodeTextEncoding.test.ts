import { describe, expect, it } from "@effect/vitest"
import { getTextEncoding } from "@bufbuild/protobuf/wire"
import fc from "fast-check"
import { Decision, NodeTextEncoding } from "../src/index.js"

const decision = (text: string): Decision => ({
  kind: "fired",
  firingId: text,
  userId: `u-${text}`,
  ruleId: "r",
  ruleVersion: 1,
  reason: "",
  causeEventId: text,
  at: { seconds: 1, nanos: 0 },
  journey: "j",
  experiment: "",
  variant: "",
  explanationJson: text.repeat(3),
  position: "7",
  _unknownFields: {}
})

// Any UTF-16 unit sequence, lone surrogates included, and strings longer than Node's 4 KB pool slices.
const texts = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "binary", minLength: 1, maxLength: 4 }).map((s) => s.repeat(2000)))

describe("NodeTextEncoding", () => {
  it("writes the same bytes as TextEncoder, so decoders elsewhere read the same strings", () => {
    const samples = fc.sample(texts, { numRuns: 300, seed: 42 })
    const standard = samples.map((t) => Decision.encode(decision(t)).finish())
    NodeTextEncoding.install()
    expect(Buffer.isBuffer(getTextEncoding().encodeUtf8("x"))).toBe(true)
    samples.forEach((t, i) => {
      const bytes = Decision.encode(decision(t)).finish()
      expect(Buffer.from(bytes).equals(Buffer.from(standard[i]!))).toBe(true)
      expect(Decision.decode(bytes).explanationJson).toBe(new TextDecoder().decode(new TextEncoder().encode(t.repeat(3))))
    })
  })
})
