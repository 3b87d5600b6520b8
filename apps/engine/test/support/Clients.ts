import * as grpc from "@grpc/grpc-js"
import { IngestServiceClient, type TrackRequest, type TrackResponse, type TrackStreamResponse } from "@nudge/proto"

export interface CallError {
  readonly code: grpc.status
  readonly details: string
}

export type Result<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: CallError }

const settle =
  <A>(resolve: (r: Result<A>) => void) =>
  (error: grpc.ServiceError | null, value?: A) =>
    resolve(error === null ? { ok: true, value: value! } : { ok: false, error: { code: error.code, details: error.details } })

export const request = (overrides: Partial<TrackRequest> = {}): TrackRequest => ({
  messageId: `m-${Math.random().toString(36).slice(2)}`,
  userId: "user-1",
  name: "Viewed Pricing",
  occurredAt: undefined,
  properties: undefined,
  sentAt: undefined,
  context: {},
  ...overrides
})

/** A promise-returning IngestService client, closed with `close()`. */
export const ingestClient = (port: number) => {
  const client = new IngestServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  return {
    raw: client,
    track: (r: TrackRequest) => new Promise<Result<TrackResponse>>((resolve) => client.track(r, settle(resolve))),
    trackStream: (rs: ReadonlyArray<TrackRequest>) =>
      new Promise<Result<TrackStreamResponse>>((resolve) => {
        const call = client.trackStream(settle(resolve))
        for (const r of rs) call.write(r)
        call.end()
      }),
    /** Sends bytes as they are, for what no well-behaved client would send. */
    trackBytes: (bytes: Buffer) =>
      new Promise<Result<Buffer>>((resolve) =>
        client.makeUnaryRequest(
          "/nudge.v1.IngestService/Track",
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          settle(resolve)
        )
      ),
    close: () => client.close()
  }
}
