import { RuleServiceClient } from "@nudge/proto"
import type { BacktestResponse, ListRulesResponse, PublishRulesResponse, RuleFormat } from "@nudge/proto"
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import { InputError } from "../CliError.js"
import * as Rpc from "../internal/Rpc.js"

/** A rule set file and the syntax its extension names. */
export interface RuleFile {
  readonly file: string
  readonly format: RuleFormat
}

export interface BacktestInput extends RuleFile {
  /** Event-time bounds, ISO-8601 or epoch milliseconds, passed to the engine as written; unbounded when absent. */
  readonly from?: string | undefined
  readonly to?: string | undefined
  /** User ids to show per rule; the engine's default when absent. */
  readonly sampleSize?: number | undefined
}

/** The whole file: the engine validates a rule set as one document and reports every problem in it. */
const readRuleText = ({ file }: RuleFile) =>
  Effect.tryPromise({ try: () => readFile(file, "utf8"), catch: (cause) => InputError.fromCause(file, cause) })

/** Publishes the file as the next rule set version; the engine refuses an invalid set whole. */
export const publish = Effect.fn("Rules.publish")(function* (address: string, input: RuleFile) {
  const text = yield* readRuleText(input)
  const client = yield* Rpc.connect(RuleServiceClient, address)
  return yield* Rpc.unary<PublishRulesResponse>((callback) =>
    client.publishRules({ text, format: input.format }, callback)
  )
}, Effect.scoped)

/** The rule set in effect: its version, a summary of each rule and the text as published. */
export const list = Effect.fn("Rules.list")(function* (address: string) {
  const client = yield* Rpc.connect(RuleServiceClient, address)
  return yield* Rpc.unary<ListRulesResponse>((callback) => client.listRules({}, callback))
}, Effect.scoped)

/** Runs the file's rules over stored history without firing anything. */
export const backtest = Effect.fn("Rules.backtest")(function* (address: string, input: BacktestInput) {
  const text = yield* readRuleText(input)
  const client = yield* Rpc.connect(RuleServiceClient, address)
  return yield* Rpc.unary<BacktestResponse>((callback) =>
    client.backtest(
      { text, format: input.format, from: input.from ?? "", to: input.to ?? "", sampleSize: input.sampleSize ?? 0 },
      callback
    )
  )
}, Effect.scoped)
