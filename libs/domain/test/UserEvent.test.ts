import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { UserEvent } from "../src/index.js"

describe("UserEvent", () => {
  it("round-trips through its versioned stored form", () => {
    const event = new UserEvent.Tracked({
      messageId: "m",
      userId: "u",
      occurredAt: 1,
      receivedAt: 2,
      name: "Viewed Pricing",
      properties: { plan: "pro" },
      context: { source: "web" }
    })
    const stored = UserEvent.encode(event)
    assert.strictEqual(stored.type, "Tracked.v1")
    assert.isFalse("_tag" in (stored.data as object))
    assert.deepStrictEqual(Either.getOrThrow(UserEvent.decode(stored.type, stored.data)), event)
  })

  it("hands back the event a payload was encoded from, and checks any other payload", () => {
    const event = new UserEvent.Identified({ messageId: "m", userId: "u", occurredAt: 1, receivedAt: 2, traits: { plan: "pro" } })
    const stored = UserEvent.encode(event)
    assert.strictEqual(Either.getOrThrow(UserEvent.decode(stored.type, stored.data)), event)
    assert.strictEqual(JSON.stringify(stored.data), JSON.stringify({ messageId: "m", userId: "u", occurredAt: 1, receivedAt: 2, traits: { plan: "pro" } }))
    const copied = JSON.parse(JSON.stringify(stored.data))
    assert.notStrictEqual(Either.getOrThrow(UserEvent.decode(stored.type, copied)), event)
    assert.deepStrictEqual(Either.getOrThrow(UserEvent.decode(stored.type, copied)), event)
    assert.isTrue(Either.isLeft(UserEvent.decode("Tracked.v1", stored.data)), "a payload stored under another type is checked as that type")
    assert.isTrue(Either.isLeft(UserEvent.decode("Identified.v2", stored.data)))
  })

  it("refuses types and payloads it does not know", () => {
    assert.isTrue(Either.isLeft(UserEvent.decode("Tracked.v9", {})))
    assert.isTrue(Either.isLeft(UserEvent.decode("Tracked.v1", { userId: 3 })))
  })
})
