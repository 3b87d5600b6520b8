import * as grpc from "@grpc/grpc-js"
import {
  AuditServiceClient,
  type BacktestRequest,
  type BacktestResponse,
  type Decision,
  IngestServiceClient,
  type ListFiringsResponse,
  type ListRulesResponse,
  type PublishRulesResponse,
  RuleFormat,
  RuleServiceClient,
  type TrackRequest,
  type TrackResponse,
  type TrackStreamResponse
} from "@nudge/proto"

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

/** One unary call with a raw request body, on any method of the engine. */
export const unaryBytes = (client: grpc.Client, path: string, bytes: Buffer) =>
  new Promise<Result<Buffer>>((resolve) =>
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      settle(resolve)
    )
  )

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
    trackBytes: (bytes: Buffer) => unaryBytes(client, "/nudge.v1.IngestService/Track", bytes),
    close: () => client.close()
  }
}

/** Promise-returning RuleService and AuditService clients. */
export const controlClients = (port: number) => {
  const address = `127.0.0.1:${port}`
  const rules = new RuleServiceClient(address, grpc.credentials.createInsecure())
  const audit = new AuditServiceClient(address, grpc.credentials.createInsecure())
  return {
    publish: (text: string) =>
      new Promise<Result<PublishRulesResponse>>((resolve) =>
        rules.publishRules({ text, format: RuleFormat.RULE_FORMAT_YAML }, settle(resolve))
      ),
    listRules: () => new Promise<Result<ListRulesResponse>>((resolve) => rules.listRules({}, settle(resolve))),
    backtest: (request: BacktestRequest) => new Promise<Result<BacktestResponse>>((resolve) => rules.backtest(request, settle(resolve))),
    firings: (userId: string, page: { readonly pageSize?: number; readonly pageToken?: string } = {}) =>
      new Promise<Result<ListFiringsResponse>>((resolve) =>
        audit.listFirings({ userId, pageSize: page.pageSize ?? 0, pageToken: page.pageToken ?? "" }, settle(resolve))
      ),
    explain: (firingId: string) => new Promise<Result<Decision>>((resolve) => audit.explain({ firingId }, settle(resolve))),
    watch: (onDecision: (d: Decision) => void) => {
      const call = audit.watchFirings({ afterPosition: "", userId: "" })
      call.on("data", onDecision)
      call.on("error", () => undefined)
      return () => call.cancel()
    },
    close: () => {
      rules.close()
      audit.close()
    }
  }
}
