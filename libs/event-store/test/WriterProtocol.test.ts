import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import { type AppendResult, Position, StreamDeleted, WrongExpectedRevision } from "../src/EventStore.js"
import * as WriterProtocol from "../src/internal/WriterProtocol.js"

const event = fc.record({ id: fc.uuid(), type: fc.string(), data: fc.json(), metadata: fc.option(fc.json(), { nil: null }) })
const request = fc.record({
  stream: fc.string(),
  expected: fc.oneof(fc.constantFrom("any" as const, "no_stream" as const, "stream_exists" as const), fc.bigInt({ min: 0n, max: 1n << 62n })),
  events: fc.array(event, { maxLength: 4 })
})

const decodeError = Schema.decodeUnknownSync(WriterProtocol.AppendErrorWire)
const encodeError = Schema.encodeSync(WriterProtocol.AppendErrorWire)

describe("WriterProtocol", () => {
  it("a batch of appends arrives as it was sent", () =>
    fc.assert(
      fc.property(fc.array(request, { maxLength: 6 }), (requests) => {
        assert.deepStrictEqual(WriterProtocol.unflattenAppends(WriterProtocol.flattenAppends(requests)), requests)
      })
    ))

  it("each request's result, or its error, comes back in order, with the request's ids", () =>
    fc.assert(
      fc.property(fc.array(fc.tuple(request, fc.nat(2)), { maxLength: 6 }), (cases) => {
        const requests = cases.map(([r]) => r)
        const results = cases.map(([r, kind], i): AppendResult | WrongExpectedRevision | StreamDeleted =>
          kind === 0
            ? new WrongExpectedRevision({ stream: r.stream, expected: "any", actual: `${i}` })
            : kind === 1
              ? new StreamDeleted({ stream: r.stream })
              : {
                  nextRevision: BigInt(i + r.events.length),
                  events: r.events.map((e, k) => ({ id: e.id, revision: BigInt(i + k), position: Position.of(BigInt(100 * i + k)), duplicate: k % 2 === 0 }))
                }
        )
        const sent = WriterProtocol.flattenResults(results.map((r) => ("_tag" in r ? encodeError(r) : r)))
        assert.deepStrictEqual(WriterProtocol.unflattenResults(sent, requests, decodeError), results)
      })
    ))
})
