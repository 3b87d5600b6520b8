import * as grpc from "@grpc/grpc-js"
import { UserActors } from "@nudge/actors"
import { TriggerEvent, UserEvent } from "@nudge/domain"
import { EventStore, Position, type RecordedEvent } from "@nudge/event-store"
import { InvalidArgument } from "@nudge/ingest"
import {
  AuditServiceService,
  type Decision,
  type ExplainRequest,
  type ListFiringsRequest,
  type ListFiringsResponse,
  type WatchFiringsRequest
} from "@nudge/proto"
import { StateStore } from "@nudge/state"
import { Effect, Either, Option, Stream } from "effect"
import { answer, type ServiceBinding, serviceError } from "./GrpcServer.js"
import { NotFound } from "./GrpcStatus.js"
import type { ServerStream } from "./ServerStream.js"
import { type Decoded, message, withDecoders } from "./Wire.js"

const timestamp = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 })

/** A stored decision as the audit API shows it; timers are bookkeeping, not decisions. */
export const toDecision = (e: RecordedEvent): Decision | undefined => {
  const decoded = TriggerEvent.decode(e.type, e.data)
  if (Either.isLeft(decoded)) return undefined
  const d = decoded.right
  const position = Position.format(e.position)
  switch (d._tag) {
    case "TimerScheduled":
      return undefined
    case "FiringRetracted":
      return {
        kind: "retracted",
        firingId: d.firingId,
        userId: d.userId,
        ruleId: d.ruleId,
        ruleVersion: 0,
        reason: d.reason,
        causeEventId: d.lateEventId,
        at: undefined,
        journey: "",
        experiment: "",
        variant: "",
        explanationJson: "",
        position
      }
    case "TriggerFired":
    case "TriggerSuppressed":
      return {
        kind: d._tag === "TriggerFired" ? "fired" : "suppressed",
        firingId: d.firingId,
        userId: d.userId,
        ruleId: d.ruleId,
        ruleVersion: d.ruleVersion,
        reason: d._tag === "TriggerSuppressed" ? d.reason : "",
        causeEventId: d.causeEventId,
        at: timestamp(d.at),
        journey: d._tag === "TriggerFired" ? d.journey : "",
        experiment: d._tag === "TriggerFired" ? (d.experiment ?? "") : "",
        variant: d._tag === "TriggerFired" ? (d.variant ?? "") : "",
        explanationJson: JSON.stringify(d.explanation),
        position
      }
  }
}

const required = (field: string, value: string) =>
  value.trim() === "" ? Effect.fail(new InvalidArgument({ field, reason: "is required" })) : Effect.succeed(value)

export const make = (streams: ServerStream) =>
  Effect.gen(function* () {
  const runtime = yield* Effect.runtime<EventStore | StateStore>()
  const store = yield* EventStore
  const state = yield* StateStore
  const reply = answer(runtime)

  const decisionsOf = (userId: string) =>
    store.read(TriggerEvent.streamOf(userId)).pipe(Effect.map((events) => events.flatMap((e) => toDecision(e) ?? [])))

  /** A user with no decisions yet is told apart from one the engine never heard of (a typo, another tenant's id). */
  const knownDecisionsOf = (userId: string) =>
    decisionsOf(userId).pipe(
      Effect.filterOrElse(
        (decisions) => decisions.length > 0,
        (none) =>
          store.read(UserEvent.streamOf(userId), { maxCount: 1 }).pipe(
            Effect.filterOrFail(
              (events) => events.length > 0,
              () => new NotFound({ what: `user ${userId} (no events were ever tracked for it)` })
            ),
            Effect.as(none)
          )
      )
    )

  const listFirings = (
    call: grpc.ServerUnaryCall<Decoded<ListFiringsRequest>, ListFiringsResponse>,
    callback: grpc.sendUnaryData<ListFiringsResponse>
  ) =>
    reply(
      message(call.request).pipe(
        Effect.flatMap((request) => required("user_id", request.userId)),
        Effect.flatMap(knownDecisionsOf),
        Effect.map((decisions) => ({ decisions }))
      ),
      callback
    )

  const explain = (call: grpc.ServerUnaryCall<Decoded<ExplainRequest>, Decision>, callback: grpc.sendUnaryData<Decision>) =>
    reply(
      Effect.gen(function* () {
        const firingId = yield* required("firing_id", (yield* message(call.request)).firingId)
        const userId = (yield* state.get([UserActors.firingKey(firingId)])).get(UserActors.firingKey(firingId))
        if (userId === undefined) return yield* new NotFound({ what: `firing ${firingId}` })
        const decisions = (yield* decisionsOf(userId)).filter((d) => d.firingId === firingId)
        const decision = decisions.find((d) => d.kind !== "retracted")
        if (decision === undefined) return yield* new NotFound({ what: `firing ${firingId}` })
        const retraction = decisions.find((d) => d.kind === "retracted")
        return retraction === undefined ? decision : { ...decision, kind: "retracted", reason: retraction.reason }
      }),
      callback
    )

  const watchFirings = (call: grpc.ServerWritableStream<Decoded<WatchFiringsRequest>, Decision>) => {
    if (call.request._tag === "Malformed") return call.destroy(serviceError(grpc.status.INVALID_ARGUMENT, call.request.reason))
    const { afterPosition, userId } = call.request.message
    const after = afterPosition === "" ? undefined : Position.parse(afterPosition)
    if (afterPosition !== "" && after === undefined) {
      return call.destroy(serviceError(grpc.status.INVALID_ARGUMENT, "after_position: expected a decimal position"))
    }
    const prefix = userId === "" ? TriggerEvent.streamPrefix : TriggerEvent.streamOf(userId)
    streams.follow(
      call,
      Stream.unwrap(
        Effect.map(after === undefined ? store.head : Effect.succeed(after), (start) =>
          store.subscribeAll({ after: start, streamPrefixes: [prefix] }).pipe(
            Stream.filter((e) => userId === "" || e.stream === prefix),
            Stream.filterMap((e) => Option.fromNullable(toDecision(e)))
          )
        )
      )
    )
  }

  const binding: ServiceBinding = {
    definition: withDecoders(AuditServiceService),
    implementation: { listFirings, explain, watchFirings }
  }
  return binding
})
