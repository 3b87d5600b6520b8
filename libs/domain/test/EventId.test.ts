import { assert, describe, it } from "@effect/vitest"
import { EventId } from "../src/index.js"

describe("EventId", () => {
  it("computes RFC 4122 version 5 UUIDs", () => {
    // The DNS-namespace example published with RFC 4122 implementations.
    assert.strictEqual(EventId.uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d")
  })

  it("maps a message id to the same event id every time, and different ids apart", () => {
    assert.strictEqual(EventId.forMessage("m-1"), EventId.forMessage("m-1"))
    assert.notStrictEqual(EventId.forMessage("m-1"), EventId.forMessage("m-2"))
  })
})
