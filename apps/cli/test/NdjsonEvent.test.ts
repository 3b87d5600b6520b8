import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { NdjsonEvent } from "../src/index.js"

const request = (line: string) => {
  const result = NdjsonEvent.parseLine(line)
  if (Either.isLeft(result)) assert.fail(`expected a request from ${line}, got: ${result.left}`)
  return result.right
}

const reason = (line: string) => {
  const result = NdjsonEvent.parseLine(line)
  if (Either.isRight(result)) assert.fail(`expected ${line} to be rejected`)
  return result.left
}

describe("NdjsonEvent.parseLine", () => {
  it("converts a camelCase line with every field", () => {
    assert.deepStrictEqual(
      request(JSON.stringify({
        messageId: "m-1",
        userId: "u-1",
        name: "Viewed Pricing",
        occurredAt: "2024-05-01T10:00:00.250Z",
        properties: { plan: "pro", seats: 3, tags: ["a"] },
        context: { source: "web" }
      })),
      {
        messageId: "m-1",
        userId: "u-1",
        name: "Viewed Pricing",
        occurredAt: { seconds: 1714557600, nanos: 250_000_000 },
        properties: { plan: "pro", seats: 3, tags: ["a"] },
        sentAt: undefined,
        context: { source: "web" }
      }
    )
  })

  it("accepts snake_case keys and epoch milliseconds", () => {
    const converted = request(`{"message_id":"m-2","user_id":"u-2","name":"Signed Up","occurred_at":1714557600250}`)
    assert.strictEqual(converted.messageId, "m-2")
    assert.strictEqual(converted.userId, "u-2")
    assert.deepStrictEqual(converted.occurredAt, { seconds: 1714557600, nanos: 250_000_000 })
  })

  it("prefers the camelCase key when both spellings appear", () => {
    assert.strictEqual(request(`{"message_id":"snake","messageId":"camel","userId":"u","name":"E"}`).messageId, "camel")
    assert.strictEqual(request(`{"messageId":"camel","message_id":"snake","userId":"u","name":"E"}`).messageId, "camel")
  })

  it("leaves optional fields unset and context empty", () => {
    const converted = request(`{"messageId":"m","userId":"u","name":"E"}`)
    assert.isUndefined(converted.occurredAt)
    assert.isUndefined(converted.properties)
    assert.deepStrictEqual(converted.context, {})
  })

  it("says why a line cannot be sent", () => {
    assert.match(reason(`{"messageId":"m","userId":"u",`), /^not valid JSON/)
    assert.strictEqual(reason(`[1,2]`), "expected a JSON object")
    assert.strictEqual(reason(`"text"`), "expected a JSON object")
    assert.strictEqual(reason(`{"messageId":"m","name":"E"}`), "userId: is missing")
    assert.strictEqual(reason(`{"messageId":"","userId":"u","name":"E"}`), "messageId: must be a non-empty string")
    assert.strictEqual(
      reason(`{"messageId":"m","userId":"u","name":"E","occurredAt":"last tuesday"}`),
      "occurredAt: must be an ISO date string or epoch milliseconds"
    )
    assert.strictEqual(reason(`{"messageId":"m","userId":"u","name":"E","properties":[1]}`), "properties: must be an object")
    assert.match(reason(`{"messageId":"m","userId":"u","name":"E","context":{"page":1}}`), /^context\.page: /)
  })
})
