import { AuditServiceClient } from "@nudge/proto"
import type { Decision, ListFiringsResponse } from "@nudge/proto"
import { Effect } from "effect"
import type { Stream } from "effect"
import type { RpcError } from "../CliError.js"
import * as Rpc from "../internal/Rpc.js"

export interface WatchInput {
  /** Every user's decisions when absent. */
  readonly userId?: string | undefined
  /** A global position as printed by `firings` or `watch`; "from now" when absent. */
  readonly afterPosition?: string | undefined
}

/** Every decision made about one user, oldest first: the engine pages from the latest back. */
export const firings = Effect.fn("Audit.firings")(function* (address: string, userId: string) {
  const client = yield* Rpc.connect(AuditServiceClient, address)
  const pages: Array<ReadonlyArray<Decision>> = []
  let pageToken = ""
  do {
    const response = yield* Rpc.unary<ListFiringsResponse>((callback) => client.listFirings({ userId, pageSize: 1_000, pageToken }, callback))
    pages.unshift(response.decisions)
    pageToken = response.nextPageToken
  } while (pageToken !== "")
  return pages.flat()
}, Effect.scoped)

/** One firing with the explanation of why it fired; a retracted firing says why it was retracted. */
export const explain = Effect.fn("Audit.explain")(function* (address: string, firingId: string) {
  const client = yield* Rpc.connect(AuditServiceClient, address)
  return yield* Rpc.unary<Decision>((callback) => client.explain({ firingId }, callback))
}, Effect.scoped)

/** Decisions as the engine makes them, catch-up first, then live until the stream is no longer consumed. */
export const watch = (address: string, input: WatchInput): Stream.Stream<Decision, RpcError> =>
  Rpc.serverStreaming(AuditServiceClient, address, (client) =>
    client.watchFirings({ userId: input.userId ?? "", afterPosition: input.afterPosition ?? "" }))
