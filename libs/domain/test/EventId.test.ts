import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { createHash } from "node:crypto"
import { EventId } from "../src/index.js"

/** RFC 4122 section 4.3, spelled out without the module's buffer reuse. */
const reference = (namespace: string, name: string) => {
  const h = createHash("sha1").update(Buffer.from(namespace.replace(/-/g, ""), "hex")).update(name, "utf8").digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const hex = h.subarray(0, 16).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

describe("EventId", () => {
  it("computes RFC 4122 version 5 UUIDs", () => {
    // The DNS-namespace example published with RFC 4122 implementations.
    assert.strictEqual(EventId.uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d")
  })

  it("agrees with the reference for any name, long and multi-byte ones included, in any order", () => {
    const name = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", minLength: 200, maxLength: 400 }))
    fc.assert(
      fc.property(fc.uuid(), fc.array(name, { minLength: 1, maxLength: 8 }), (namespace, names) =>
        names.every((n) => EventId.uuidV5(namespace, n) === reference(namespace, n))
      ),
      { numRuns: 300 }
    )
  })

  it("maps a message id to the same event id every time, and different ids apart", () => {
    assert.strictEqual(EventId.forMessage("m-1"), EventId.forMessage("m-1"))
    assert.notStrictEqual(EventId.forMessage("m-1"), EventId.forMessage("m-2"))
  })
})
