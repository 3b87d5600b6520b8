/**
 * Durations as rule authors write them ("48h", "7d", "1h30m"), decoded to
 * milliseconds because every time in the engine is epoch milliseconds.
 */
import { Either, ParseResult, Schema } from "effect"

const units = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const
type Unit = keyof typeof units

const whole = /^(?:\d+(?:ms|s|m|h|d|w))+$/
const part = /(\d+)(ms|s|m|h|d|w)/g

/** Parses "48h", "90s", "1h30m" into milliseconds; `undefined` when the text is not a duration. */
export const parse = (text: string): number | undefined => {
  if (!whole.test(text)) return undefined
  let total = 0
  for (const [, amount, unit] of text.matchAll(part)) total += Number(amount) * units[unit as Unit]
  return total
}

const largestFirst = (Object.keys(units) as Array<Unit>).sort((a, b) => units[b] - units[a])

/** The shortest text that parses back to `ms` ("2d", not "48h"). */
export const format = (ms: number): string => {
  const unit = largestFirst.find((u) => ms % units[u] === 0 && ms >= units[u]) ?? "ms"
  return `${ms / units[unit]}${unit}`
}

const expected = `expected a duration like "48h"`

const fromText = (positive: boolean) =>
  Schema.transformOrFail(Schema.String.annotations({ message: () => expected }), Schema.Number, {
    strict: true,
    decode: (text, _, ast) => {
      const ms = parse(text)
      if (ms === undefined) return ParseResult.fail(new ParseResult.Type(ast, text, expected))
      if (positive && ms === 0) return ParseResult.fail(new ParseResult.Type(ast, text, `${expected}, greater than zero`))
      return ParseResult.succeed(ms)
    },
    encode: (ms) => Either.right(format(ms))
  })

/** A duration of zero or more milliseconds, e.g. a cooldown ("0s" disables it). */
export const Duration = fromText(false)

/** A window or delay: zero would make the condition unsatisfiable, so it is rejected. */
export const PositiveDuration = fromText(true)
