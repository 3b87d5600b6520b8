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
import { answer, type ServiceBinding } from "./GrpcServer.js"
import { NotFound } from "./GrpcStatus.js"
import { fail, type ServerStream } from "./ServerStream.js"
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

const defaultPageSize = 100
const maxPageSize = 1_000
/** Raw events read at a time: a trigger stream holds timers between its decisions. */
const readStep = 256

interface Page {
  readonly userId: string
  readonly size: number
  /** The revision the page starts from, reading backwards; undefined for the latest. */
  readonly from: bigint | undefined
}

const maxRevision = 2n ** 63n - 1n

/** The page token is the trigger-stream revision to go on from (opaque to clients). */
const pageOf = (request: ListFiringsRequest) =>
  Effect.gen(function* () {
    const userId = yield* required("user_id", request.userId)
    if (request.pageSize > maxPageSize) {
      return yield* new InvalidArgument({ field: "page_size", reason: `is at most ${maxPageSize}` })
    }
    // A revision is a signed 64-bit number in every store: a larger one failed in the store as UNAVAILABLE.
    if (request.pageToken !== "" && !(/^\d{1,19}$/.test(request.pageToken) && BigInt(request.pageToken) <= maxRevision)) {
      return yield* new InvalidArgument({ field: "page_token", reason: "is not a next_page_token of this service" })
    }
    const page: Page = {
      userId,
      size: request.pageSize === 0 ? defaultPageSize : request.pageSize,
      from: request.pageToken === "" ? undefined : BigInt(request.pageToken)
    }
    return page
  })

export const make = (streams: ServerStream) =>
  Effect.gen(function* () {
  const runtime = yield* Effect.runtime<EventStore | StateStore>()
  const store = yield* EventStore
  const state = yield* StateStore
  const reply = answer(runtime)

  /** Reads the trigger stream backwards until the page is full; `next` is where the next page starts, if any. */
  const latestDecisions = ({ from, size, userId }: Page) =>
    Effect.gen(function* () {
      const decisions: Array<Decision> = []
      let next = from
      let more = true
      while (more && decisions.length < size) {
        const events = yield* store.read(TriggerEvent.streamOf(userId), { direction: "backwards", from: next, maxCount: readStep })
        let taken = 0
        for (; taken < events.length && decisions.length < size; taken++) {
          const decision = toDecision(events[taken]!)
          if (decision !== undefined) decisions.push(decision)
        }
        next = taken === 0 ? -1n : events[taken - 1]!.revision - 1n
        more = next >= 0n && (taken < events.length || events.length === readStep)
      }
      return { decisions: decisions.reverse(), next: more ? next : undefined }
    })

  /** A user with no decisions yet is told apart from one the engine never heard of (a typo, another tenant's id). */
  const knownUser = (userId: string) =>
    store.read(UserEvent.streamOf(userId), { maxCount: 1 }).pipe(
      Effect.filterOrFail(
        (events) => events.length > 0,
        () => new NotFound({ what: `user ${userId}` })
      )
    )

  const listFirings = (
    call: grpc.ServerUnaryCall<Decoded<ListFiringsRequest>, ListFiringsResponse>,
    callback: grpc.sendUnaryData<ListFiringsResponse>
  ) =>
    reply(
      Effect.gen(function* () {
        const page = yield* pageOf(yield* message(call.request))
        const { decisions, next } = yield* latestDecisions(page)
        if (page.from === undefined && decisions.length === 0) yield* knownUser(page.userId)
        return { decisions, nextPageToken: next === undefined ? "" : next.toString() }
      }),
      callback
    )

  const explain = (call: grpc.ServerUnaryCall<Decoded<ExplainRequest>, Decision>, callback: grpc.sendUnaryData<Decision>) =>
    reply(
      Effect.gen(function* () {
        const firingId = yield* required("firing_id", (yield* message(call.request)).firingId)
        const userId = (yield* state.get([UserActors.firingKey(firingId)])).get(UserActors.firingKey(firingId))
        if (userId === undefined) return yield* new NotFound({ what: `firing ${firingId}` })
        // Newest first, so a retraction (always stored after its firing) is seen before the firing, and a recent
        // firing is found without reading a long history.
        let from: bigint | undefined
        let retraction: Decision | undefined
        do {
          const page = yield* latestDecisions({ userId, size: maxPageSize, from })
          for (let i = page.decisions.length - 1; i >= 0; i--) {
            const decision = page.decisions[i]!
            if (decision.firingId !== firingId) continue
            if (decision.kind === "retracted") retraction ??= decision
            else return retraction === undefined ? decision : { ...decision, kind: "retracted", reason: retraction.reason }
          }
          from = page.next
        } while (from !== undefined)
        return yield* new NotFound({ what: `firing ${firingId}` })
      }),
      callback
    )

  const watchFirings = (call: grpc.ServerWritableStream<Decoded<WatchFiringsRequest>, Decision>) => {
    if (call.request._tag === "Malformed") return fail(call, grpc.status.INVALID_ARGUMENT, call.request.reason)
    const { afterPosition, userId } = call.request.message
    const after = afterPosition === "" ? undefined : Position.parse(afterPosition)
    if (afterPosition !== "" && after === undefined) {
      return fail(call, grpc.status.INVALID_ARGUMENT, "after_position: expected a decimal position")
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
