import * as grpc from "@grpc/grpc-js"
import { EventId } from "@nudge/domain"
import { ServerOptions } from "@nudge/engine/ServerOptions"
import {
  AuditServiceService,
  type Decision,
  IngestServiceService,
  type PublishRulesResponse,
  RuleServiceService,
  type TrackRequest,
  type TrackResponse,
  type TrackStreamResponse
} from "@nudge/proto"
import { latencyEvent, latencyRule, markerEvent, markerRule } from "./E2eWorkload.js"

/**
 * The end-to-end baseline: the engine's gRPC surface as the bench uses it,
 * with nothing behind it. Track is acknowledged at once, and each event the
 * bench's probe rules would fire on is pushed to every WatchFirings stream
 * as it arrives, so the same load generator, clients and clock measure what
 * grpc-js and this machine cost before the engine does any work.
 */
const watchers = new Set<grpc.ServerWritableStream<unknown, Decision>>()

const probeRules = new Map([
  [latencyEvent, latencyRule],
  [markerEvent, markerRule]
])

const decide = (request: TrackRequest) => {
  const ruleId = probeRules.get(request.name)
  if (ruleId === undefined || watchers.size === 0) return
  const decision: Decision = {
    kind: "fired",
    firingId: "",
    userId: request.userId,
    ruleId,
    ruleVersion: 1,
    reason: "",
    causeEventId: EventId.forMessage(request.messageId),
    at: undefined,
    journey: ruleId,
    variant: "",
    experiment: "",
    explanationJson: "",
    position: "0"
  }
  for (const watcher of watchers) watcher.write(decision)
}

const server = new grpc.Server(ServerOptions)
server.addService(IngestServiceService, {
  track: (call: grpc.ServerUnaryCall<TrackRequest, TrackResponse>, callback: grpc.sendUnaryData<TrackResponse>) => {
    callback(null, { eventId: EventId.forMessage(call.request.messageId), position: "0", duplicate: false })
    decide(call.request)
  },
  trackStream: (call: grpc.ServerReadableStream<TrackRequest, TrackStreamResponse>, callback: grpc.sendUnaryData<TrackStreamResponse>) => {
    let accepted = 0
    call.on("data", (request: TrackRequest) => {
      accepted += 1
      decide(request)
    })
    call.on("end", () => callback(null, { accepted, duplicates: 0, rejected: 0, rejections: [] }))
  },
  identify: () => undefined,
  setConsent: () => undefined
})
server.addService(RuleServiceService, {
  publishRules: (_call: unknown, callback: grpc.sendUnaryData<PublishRulesResponse>) =>
    callback(null, { version: 1, position: "0", ruleCount: probeRules.size }),
  listRules: () => undefined,
  backtest: () => undefined
})
server.addService(AuditServiceService, {
  listFirings: () => undefined,
  explain: () => undefined,
  watchFirings: (call: grpc.ServerWritableStream<unknown, Decision>) => {
    watchers.add(call)
    call.on("cancelled", () => watchers.delete(call))
    call.on("close", () => watchers.delete(call))
  }
})
server.bindAsync(process.env.NUDGE_GRPC_ADDRESS ?? "127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
  if (e !== null) throw e
  console.log(`no-op engine ready port=${port}`)
})
process.on("SIGTERM", () => {
  watchers.forEach((w) => w.end())
  server.forceShutdown()
  process.exit(0)
})
