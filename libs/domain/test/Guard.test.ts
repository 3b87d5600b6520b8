import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { Guard, TriggerEvent, UserEvent } from "../src/index.js"

const Required = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0),
  Schema.filter((s) => s.length <= 8)
)

/** The shapes the hot paths check: structs of primitives, records, filters, optional unions, literals. */
const schemas = {
  tracked: Schema.Struct(UserEvent.Tracked.fields),
  consent: Schema.Struct(UserEvent.ConsentChanged.fields),
  fired: Schema.Struct(TriggerEvent.TriggerFired.fields),
  suppressed: Schema.Struct(TriggerEvent.TriggerSuppressed.fields),
  message: Schema.Struct({
    messageId: Required,
    properties: Schema.optional(Schema.UndefinedOr(Schema.Record({ key: Schema.String, value: Schema.Unknown }))),
    context: Schema.Record({ key: Schema.String, value: Schema.String }),
    at: Schema.optional(Schema.UndefinedOr(Schema.Struct({ seconds: Schema.Number.pipe(Schema.filter(Number.isInteger)) }))),
    kind: Schema.Literal("a", "b")
  })
}

/** Valid values with one thing broken, so both answers occur often. */
const nearly = <A>(valid: fc.Arbitrary<A>) =>
  fc.oneof(
    valid,
    fc.tuple(valid, fc.string(), fc.anything()).map(([v, k, x]) => {
      if (typeof v !== "object" || v === null) return x
      const keys = Object.keys(v)
      const key = keys.length > 0 && k.length % 2 === 0 ? keys[k.length % keys.length]! : k
      return { ...v, [key]: x }
    }),
    fc.tuple(valid, fc.nat()).map(([v, n]) => {
      if (typeof v !== "object" || v === null) return v
      const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) }
      const keys = Object.keys(copy)
      if (keys.length > 0) delete copy[keys[n % keys.length]!]
      return copy
    }),
    fc.anything()
  )

describe("Guard.is", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`answers as Schema.is does: ${name}`, () => {
      const fast = Guard.is(schema as Schema.Schema<unknown, unknown>)
      const reference = Schema.is(schema as Schema.Schema<unknown, unknown>)
      const arbitrary = nearly(Arbitrary.make(schema as Schema.Schema<unknown, unknown>))
      let accepted = 0
      let refused = 0
      fc.assert(
        fc.property(arbitrary, (u) => {
          const answer = reference(u)
          if (answer) accepted += 1
          else refused += 1
          return fast(u) === answer
        }),
        { numRuns: 2000 }
      )
      assert.isAbove(accepted, 100)
      assert.isAbove(refused, 100)
    })
  }
})
