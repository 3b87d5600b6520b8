import type * as grpc from "@grpc/grpc-js"
import { RuleSetPublished, UserEvent } from "@nudge/domain"
import { EventStore, Position, type RecordedEvent } from "@nudge/event-store"
import { InvalidArgument } from "@nudge/ingest"
import {
  type BacktestRequest,
  type BacktestResponse,
  type ListRulesResponse,
  type PublishRulesRequest,
  type PublishRulesResponse,
  RuleFormat,
  RuleServiceService
} from "@nudge/proto"
import { Backtest, Compiler, RuleSet } from "@nudge/rules"
import { Effect, Either } from "effect"
import { answer, type ServiceBinding } from "./GrpcServer.js"
import { StaleRuleSet } from "./GrpcStatus.js"
import { type Decoded, message, withDecoders } from "./Wire.js"

const formatOf = (format: RuleFormat) => (format === RuleFormat.RULE_FORMAT_JSON ? "json" : "yaml")

const parse = (text: string, format: RuleFormat) =>
  text.trim() === ""
    ? Effect.fail(new InvalidArgument({ field: "text", reason: "is required" }))
    : Either.match(RuleSet.parseRuleSet(text, formatOf(format)), { onLeft: Effect.fail, onRight: Effect.succeed })

const timeArg = (field: string, text: string) => {
  if (text.trim() === "") return Effect.succeed(undefined)
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
  return Number.isFinite(ms) ? Effect.succeed(ms) : Effect.fail(new InvalidArgument({ field, reason: "expected ISO-8601 or epoch milliseconds" }))
}

/** Every stored `Tracked` event in an event-time range, paged through the global log. */
const history = (from: number | undefined, to: number | undefined) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const events: Array<Backtest.HistoricalEvent> = []
    let after = Position.start
    for (;;) {
      const page: ReadonlyArray<RecordedEvent> = yield* store.readAll({ after, maxCount: 4096, streamPrefixes: [UserEvent.streamPrefix] })
      if (page.length === 0) return events
      after = page.at(-1)!.position
      for (const e of page) {
        const decoded = UserEvent.decode(e.type, e.data)
        if (Either.isLeft(decoded) || decoded.right._tag !== "Tracked") continue
        const t = decoded.right
        if ((from !== undefined && t.occurredAt < from) || (to !== undefined && t.occurredAt > to)) continue
        events.push({ userId: t.userId, id: e.id, name: t.name, occurredAt: t.occurredAt, properties: t.properties })
      }
    }
  })

const latest = Effect.gen(function* () {
  const store = yield* EventStore
  const [last] = yield* store.read(RuleSetPublished.stream, { direction: "backwards", maxCount: 1 })
  if (last === undefined) return undefined
  const decoded = RuleSetPublished.decode(last.type, last.data)
  return Either.isRight(decoded) ? { event: last, published: decoded.right } : undefined
})

export const make = Effect.gen(function* () {
  const runtime = yield* Effect.runtime<EventStore>()
  const store = yield* EventStore
  const reply = answer(runtime)

  const publishRules = (
    call: grpc.ServerUnaryCall<Decoded<PublishRulesRequest>, PublishRulesResponse>,
    callback: grpc.sendUnaryData<PublishRulesResponse>
  ) =>
    reply(
      Effect.gen(function* () {
        const request = yield* message(call.request)
        const ruleSet = yield* parse(request.text, request.format)
        const current = yield* latest
        const version = (current?.published.version ?? 0) + 1
        const event = new RuleSetPublished.RuleSetPublished({
          version,
          format: formatOf(request.format),
          text: request.text,
          publishedAt: Date.now()
        })
        const result = yield* store.append(
          RuleSetPublished.stream,
          [{ id: crypto.randomUUID(), ...RuleSetPublished.encode(event) }],
          current === undefined ? "no_stream" : current.event.revision
        )
        return { version, position: Position.format(result.events[0]!.position), ruleCount: ruleSet.rules.length }
      }),
      callback
    )

  const listRules = (_call: grpc.ServerUnaryCall<unknown, ListRulesResponse>, callback: grpc.sendUnaryData<ListRulesResponse>) =>
    reply(
      Effect.gen(function* () {
        const current = yield* latest
        if (current === undefined) return { version: 0, rules: [], text: "" }
        const parsed = RuleSet.parseRuleSet(current.published.text, current.published.format)
        if (Either.isLeft(parsed)) return yield* new StaleRuleSet({ version: current.published.version, reason: parsed.left.message })
        const ruleSet = parsed.right
        return {
          version: current.published.version,
          text: current.published.text,
          rules: ruleSet.rules.map((r) => ({
            id: r.id,
            version: r.version,
            name: r.name,
            priority: r.priority,
            group: r.group ?? "",
            journey: r.action.journey,
            consent: r.consent ?? ""
          }))
        }
      }),
      callback
    )

  const backtest = (
    call: grpc.ServerUnaryCall<Decoded<BacktestRequest>, BacktestResponse>,
    callback: grpc.sendUnaryData<BacktestResponse>
  ) =>
    reply(
      Effect.gen(function* () {
        const request = yield* message(call.request)
        const ruleSet = yield* parse(request.text, request.format)
        const from = yield* timeArg("from", request.from)
        const to = yield* timeArg("to", request.to)
        if (from !== undefined && to !== undefined && to < from) {
          return yield* new InvalidArgument({ field: "to", reason: "is before from: the range holds no event" })
        }
        const events = yield* history(from, to)
        const result = Backtest.backtest(Compiler.compile(ruleSet), events, to === undefined ? {} : { until: to })
        const sampleSize = request.sampleSize === 0 ? 10 : request.sampleSize
        return {
          users: new Set(events.map((e) => e.userId)).size,
          events: events.length,
          rules: ruleSet.rules.map((r) => {
            const fired = result.firings.filter((f) => f.ruleId === r.id)
            return {
              ruleId: r.id,
              firings: fired.length,
              suppressedByCooldown: result.suppressed.filter((s) => s.ruleId === r.id && s.reason === "cooldown").length,
              sampleUsers: [...new Set(fired.map((f) => f.userId))].slice(0, sampleSize)
            }
          })
        }
      }),
      callback
    )

  return { definition: withDecoders(RuleServiceService), implementation: { publishRules, listRules, backtest } } satisfies ServiceBinding
})
