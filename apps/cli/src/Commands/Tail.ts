import { EventLogServiceClient } from "@nudge/proto"
import type { StoredEvent } from "@nudge/proto"
import type { Stream } from "effect"
import type { RpcError } from "../CliError.js"
import * as Rpc from "../internal/Rpc.js"

export interface TailInput {
  readonly fromStart: boolean
  /** A global position as printed by `track` or `tail`; "from now" when absent. */
  readonly afterPosition?: string | undefined
  readonly streamPrefixes: ReadonlyArray<string>
}

/** Stored events in global order, catch-up first, then live until the stream is no longer consumed. */
export const tail = (address: string, input: TailInput): Stream.Stream<StoredEvent, RpcError> =>
  Rpc.serverStreaming(EventLogServiceClient, address, (client) =>
    client.tail({
      fromStart: input.fromStart,
      afterPosition: input.afterPosition ?? "",
      streamPrefixes: [...input.streamPrefixes]
    }))
