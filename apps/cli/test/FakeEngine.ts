import { Server, ServerCredentials, status } from "@grpc/grpc-js"
import type { ServerErrorResponse } from "@grpc/grpc-js"
import { AuditServiceService, EventLogServiceService, IngestServiceService, RuleServiceService } from "@nudge/proto"
import type {
  AuditServiceServer,
  BacktestRequest,
  BacktestResponse,
  Decision,
  EventLogServiceServer,
  IdentifyRequest,
  IngestServiceServer,
  PublishRulesRequest,
  RuleServiceServer,
  RuleSummary,
  SetConsentRequest,
  StoredEvent,
  TailRequest,
  TrackRequest,
  TrackResponse,
  TrackStreamResponse,
  WatchFiringsRequest
} from "@nudge/proto"
import { Effect } from "effect"

/**
 * An in-process stand-in for the engine's gRPC surface that records every
 * request and answers like the engine would: message ids seen before are
 * duplicates, and event names with the reserved "$" prefix are rejected.
 */
export interface FakeEngine {
  readonly address: string
  readonly tracks: Array<TrackRequest>
  readonly identifies: Array<IdentifyRequest>
  readonly consents: Array<SetConsentRequest>
  /** The messages of each TrackStream call, in arrival order. */
  readonly streamCalls: Array<Array<TrackRequest>>
  readonly streamResponses: Array<TrackStreamResponse>
  readonly tailRequests: Array<TailRequest>
  readonly publishRequests: Array<PublishRulesRequest>
  readonly backtestRequests: Array<BacktestRequest>
  readonly watchRequests: Array<WatchFiringsRequest>
  /** When set, every unary call fails with this status. */
  failure: { readonly code: status; readonly details: string } | undefined
}

export interface FakeEngineOptions {
  /** What Tail sends before it waits, like the engine does for events not yet committed. */
  readonly storedEvents?: ReadonlyArray<StoredEvent>
  /** The summary ListRules gives of whatever text was published last: the fake does not parse rules. */
  readonly rules?: ReadonlyArray<RuleSummary>
  readonly backtest?: BacktestResponse
  /** What ListFirings and Explain answer from, in position order; WatchFirings sends them as if just made. */
  readonly decisions?: ReadonlyArray<Decision>
  /** At most this many decisions per ListFirings page, whatever the client asks (a server may send fewer). */
  readonly pageCap?: number
}

const serviceError = ({ code, details }: { code: status; details: string }): ServerErrorResponse =>
  Object.assign(new Error(details), { code, details })

export const make = (options: FakeEngineOptions = {}) =>
  Effect.gen(function* () {
    const seen = new Set<string>()
    let position = 0
    const fake: Omit<FakeEngine, "address"> = {
      tracks: [],
      identifies: [],
      consents: [],
      streamCalls: [],
      streamResponses: [],
      tailRequests: [],
      publishRequests: [],
      backtestRequests: [],
      watchRequests: [],
      failure: undefined
    }
    const rules = options.rules ?? []
    const decisions = options.decisions ?? []
    const acknowledge = (messageId: string): TrackResponse => {
      const duplicate = seen.has(messageId)
      seen.add(messageId)
      return { eventId: `event-${messageId}`, position: duplicate ? "0" : `${++position}`, duplicate }
    }

    const ingest: IngestServiceServer = {
      track: (call, callback) => {
        fake.tracks.push(call.request)
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        callback(null, acknowledge(call.request.messageId))
      },
      trackStream: (call, callback) => {
        const received: Array<TrackRequest> = []
        fake.streamCalls.push(received)
        call.on("data", (request: TrackRequest) => received.push(request))
        call.on("end", () => {
          if (fake.failure !== undefined) return callback(serviceError(fake.failure))
          const response: TrackStreamResponse = { accepted: 0, duplicates: 0, rejected: 0, rejections: [] }
          for (const request of received) {
            if (request.name.startsWith("$")) {
              response.rejected++
              response.rejections.push({ messageId: request.messageId, reason: "name: the $ prefix is reserved" })
            } else if (acknowledge(request.messageId).duplicate) {
              response.duplicates++
            } else {
              response.accepted++
            }
          }
          fake.streamResponses.push(response)
          callback(null, response)
        })
      },
      identify: (call, callback) => {
        fake.identifies.push(call.request)
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        callback(null, acknowledge(call.request.messageId))
      },
      setConsent: (call, callback) => {
        fake.consents.push(call.request)
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        callback(null, acknowledge(call.request.messageId))
      }
    }
    const eventLog: EventLogServiceServer = {
      tail: (call) => {
        fake.tailRequests.push(call.request)
        for (const event of options.storedEvents ?? []) call.write(event)
      }
    }

    const ruleService: RuleServiceServer = {
      publishRules: (call, callback) => {
        fake.publishRequests.push(call.request)
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        callback(null, { version: fake.publishRequests.length, position: `${++position}`, ruleCount: rules.length })
      },
      listRules: (_call, callback) => {
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        const published = fake.publishRequests.at(-1)
        callback(null, {
          version: fake.publishRequests.length,
          rules: published === undefined ? [] : [...rules],
          text: published?.text ?? ""
        })
      },
      backtest: (call, callback) => {
        fake.backtestRequests.push(call.request)
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        callback(null, options.backtest ?? { users: 0, events: 0, rules: [] })
      }
    }
    const audit: AuditServiceServer = {
      listFirings: (call, callback) => {
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        // Pages from the latest back; the token is where the next page ends.
        const mine = decisions.filter((d) => d.userId === call.request.userId)
        const end = call.request.pageToken === "" ? mine.length : Number(call.request.pageToken)
        const start = Math.max(0, end - Math.min(call.request.pageSize || 100, options.pageCap ?? Infinity))
        callback(null, { decisions: mine.slice(start, end), nextPageToken: start > 0 ? String(start) : "" })
      },
      explain: (call, callback) => {
        if (fake.failure !== undefined) return callback(serviceError(fake.failure))
        const decision = decisions.find((d) => d.firingId === call.request.firingId)
        if (decision === undefined) {
          return callback(serviceError({ code: status.NOT_FOUND, details: `firing ${call.request.firingId} not found` }))
        }
        callback(null, decision)
      },
      watchFirings: (call) => {
        fake.watchRequests.push(call.request)
        const { afterPosition, userId } = call.request
        for (const decision of decisions) {
          const after = afterPosition === "" || BigInt(decision.position) > BigInt(afterPosition)
          if (after && (userId === "" || decision.userId === userId)) call.write(decision)
        }
      }
    }

    const server = new Server()
    server.addService(IngestServiceService, ingest)
    server.addService(EventLogServiceService, eventLog)
    server.addService(RuleServiceService, ruleService)
    server.addService(AuditServiceService, audit)
    const port = yield* Effect.acquireRelease(
      Effect.async<number, Error>((resume) =>
        server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) =>
          resume(error === null ? Effect.succeed(port) : Effect.fail(error)))
      ),
      () => Effect.sync(() => server.forceShutdown())
    )
    return Object.assign(fake, { address: `127.0.0.1:${port}` }) satisfies FakeEngine
  })

/** A decoded message without the `_unknownFields` bookkeeping ts-proto adds, for comparing with literals. */
export const withoutUnknownFields = <A>(message: A): A =>
  JSON.parse(JSON.stringify(message, (key, value) => (key === "_unknownFields" ? undefined : value)))
