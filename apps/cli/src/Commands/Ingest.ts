import { IngestServiceClient } from "@nudge/proto"
import type { Timestamp, TrackResponse } from "@nudge/proto"
import type { ClientUnaryCall, ServiceError } from "@grpc/grpc-js"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import * as Rpc from "../internal/Rpc.js"
import * as Timestamps from "../internal/Timestamps.js"

/** What the caller may fix about a single message; the rest is stamped when it is sent. */
export interface EnvelopeOptions {
  /** The idempotency key: pass the same one to make a retry a no-op. */
  readonly messageId?: string | undefined
  readonly occurredAt?: Date | undefined
}

interface Envelope {
  readonly messageId: string
  readonly occurredAt: Timestamp | undefined
  readonly sentAt: Timestamp
}

export interface TrackInput extends EnvelopeOptions {
  readonly userId: string
  readonly event: string
  readonly properties: Readonly<Record<string, unknown>>
}

export interface IdentifyInput extends EnvelopeOptions {
  readonly userId: string
  readonly traits: Readonly<Record<string, unknown>>
}

export interface ConsentInput extends EnvelopeOptions {
  readonly userId: string
  readonly category: string
  readonly granted: boolean
}

type Send = (
  client: IngestServiceClient,
  envelope: Envelope,
  callback: (error: ServiceError | null, response: TrackResponse) => void
) => ClientUnaryCall

const sendOne = (address: string, options: EnvelopeOptions, send: Send) =>
  Effect.gen(function* () {
    const client = yield* Rpc.connect(IngestServiceClient, address)
    const sentAt = yield* Timestamps.now
    const envelope: Envelope = {
      messageId: options.messageId ?? randomUUID(),
      occurredAt: options.occurredAt === undefined ? undefined : Timestamps.fromDate(options.occurredAt),
      sentAt
    }
    return yield* Rpc.unary<TrackResponse>((callback) => send(client, envelope, callback))
  }).pipe(Effect.scoped)

export const track = (address: string, input: TrackInput) =>
  sendOne(address, input, (client, envelope, callback) =>
    client.track(
      { ...envelope, userId: input.userId, name: input.event, properties: input.properties, context: {} },
      callback
    )).pipe(Effect.withSpan("Ingest.track"))

export const identify = (address: string, input: IdentifyInput) =>
  sendOne(address, input, (client, envelope, callback) =>
    client.identify({ ...envelope, userId: input.userId, traits: input.traits }, callback)).pipe(
      Effect.withSpan("Ingest.identify")
    )

export const setConsent = (address: string, input: ConsentInput) =>
  sendOne(address, input, (client, envelope, callback) =>
    client.setConsent(
      { ...envelope, userId: input.userId, category: input.category, granted: input.granted },
      callback
    )).pipe(Effect.withSpan("Ingest.setConsent"))
