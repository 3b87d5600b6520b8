import * as grpc from "@grpc/grpc-js"
import { ServerOptions } from "@nudge/engine/ServerOptions"
import { IngestServiceService, type TrackRequest, type TrackResponse, type TrackStreamResponse } from "@nudge/proto"

/**
 * The baseline: grpc-js with the same generated decoders and nothing behind
 * them. Whatever the engine reaches is read against what this reaches.
 */
const server = new grpc.Server(ServerOptions)
server.addService(IngestServiceService, {
  track: (_call: grpc.ServerUnaryCall<TrackRequest, TrackResponse>, callback: grpc.sendUnaryData<TrackResponse>) =>
    callback(null, { eventId: "", position: "0", duplicate: false }),
  trackStream: (
    call: grpc.ServerReadableStream<TrackRequest, TrackStreamResponse>,
    callback: grpc.sendUnaryData<TrackStreamResponse>
  ) => {
    let accepted = 0
    call.on("data", () => (accepted += 1))
    call.on("end", () => callback(null, { accepted, duplicates: 0, rejected: 0, rejections: [] }))
  },
  identify: () => undefined,
  setConsent: () => undefined
})
server.bindAsync(process.env.NUDGE_GRPC_ADDRESS ?? "127.0.0.1:50059", grpc.ServerCredentials.createInsecure(), (e, port) => {
  if (e !== null) throw e
  console.log(`noop server ready port=${port}`)
})
process.on("SIGTERM", () => server.forceShutdown())
