import { assert, describe, it } from "@effect/vitest"
import type { TrackRequest } from "@nudge/proto"
import { Either } from "effect"
import { IngestLimits, IngestMessage } from "../src/index.js"

const now = 1_750_000_000_000
const received = { bytes: 200, receivedAt: now }
const message = (overrides: Partial<TrackRequest> = {}): TrackRequest => ({
  messageId: "m-1",
  userId: "u-1",
  name: "Viewed Pricing",
  occurredAt: undefined,
  sentAt: undefined,
  properties: undefined,
  context: {},
  ...overrides
})
const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 })
const error = (r: Either.Either<unknown, { message: string }>) => (Either.isLeft(r) ? r.left.message : "accepted")

describe("IngestMessage.track", () => {
  it("defaults event time to the receive time", () => {
    const event = Either.getOrThrow(IngestMessage.track(message(), received, IngestLimits.defaults))
    assert.strictEqual(event.occurredAt, now)
    assert.deepStrictEqual(event.properties, {})
  })

  it("moves event time by the producer's clock skew", () => {
    const deviceBehind = 10 * 60_000
    const r = IngestMessage.track(
      message({ occurredAt: seconds(now - deviceBehind - 5000), sentAt: seconds(now - deviceBehind) }),
      received,
      IngestLimits.defaults
    )
    assert.strictEqual(Either.getOrThrow(r).occurredAt, now - 5000)
  })

  it("names the field that is wrong", () => {
    assert.strictEqual(error(IngestMessage.track(message({ name: " " }), received, IngestLimits.defaults)), "name: is required")
    assert.strictEqual(
      error(IngestMessage.track(message({ userId: "x".repeat(300) }), received, IngestLimits.defaults)),
      "user_id: must be at most 256 characters"
    )
    assert.strictEqual(
      error(IngestMessage.track(message({ occurredAt: seconds(now + 2 * 3600_000) }), received, IngestLimits.defaults)),
      "occurred_at: is more than 60 min in the future"
    )
    assert.strictEqual(
      error(IngestMessage.track({ ...message(), _unknownFields: { [(99 << 3) | 2]: [] } }, received, IngestLimits.defaults)),
      "unknown field number 99: not part of this API version"
    )
  })

  it("refuses a message over the size limit", () => {
    const r = IngestMessage.track(message(), { ...received, bytes: 40_000 }, IngestLimits.defaults)
    assert.isTrue(Either.isLeft(r) && r.left._tag === "LimitExceeded")
  })
})
