import type * as grpc from "@grpc/grpc-js"

/**
 * grpc-js options the engine and the benches' no-op baselines share, so a baseline differs from the engine only
 * by what is behind it. Channelz (grpc-js's call tracing for its admin service, which the engine does not serve)
 * keeps per-call records: off, the engine used about 1 µs less CPU per streamed event (32-33 against 33-35 µs)
 * and 0.73 instead of 0.76-0.8 cores at 2,000 Track calls/s.
 */
export const ServerOptions: grpc.ServerOptions = { "grpc.enable_channelz": 0 }
