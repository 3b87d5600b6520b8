import * as grpc from "@grpc/grpc-js"
import { TrackRequest } from "@nudge/proto"

/** Pre-encoded messages, so the load generator spends its CPU on sending, not on encoding. */
export const encodedEvents = (count: number, runId: string, users: number): Array<Buffer> =>
  Array.from({ length: count }, (_, i) =>
    Buffer.from(
      TrackRequest.encode({
        messageId: `${runId}-${i}`,
        userId: `user-${i % users}`,
        name: i % 3 === 0 ? "Viewed Pricing" : "Session Started",
        occurredAt: undefined,
        sentAt: undefined,
        properties: { plan: "pro", path: "/pricing", seats: i % 50 },
        context: { source: "bench", device: "desktop" }
      }).finish()
    )
  )

const identity = (b: Buffer) => b

export const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** One TrackStream call carrying `batch`, resolved when the server acknowledges it. */
const streamCall = (client: grpc.Client, batch: ReadonlyArray<Buffer>) =>
  new Promise<void>((resolve, reject) => {
    const call = client.makeClientStreamRequest(
      "/nudge.v1.IngestService/TrackStream",
      identity,
      identity,
      (error) => (error === null ? resolve() : reject(error))
    )
    let i = 0
    const write = () => {
      while (i < batch.length) {
        if (!call.write(batch[i++])) return void call.once("drain", write)
      }
      call.end()
    }
    write()
  })

export interface StreamResult {
  readonly events: number
  readonly seconds: number
  readonly eventsPerSecond: number
  /** Time from a call's first message to its acknowledgement, ms. */
  readonly ackP50: number
  readonly ackP99: number
}

/**
 * One producer's client on a connection of its own, as separate services would have: grpc-js otherwise
 * shares one connection among all clients of an address in the process, so the producers of a bench
 * would send through one HTTP/2 connection and one flow-control window.
 */
export const producerClient = (address: string) =>
  new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 })

/** `streams` concurrent producers, each sending its share of `events` as TrackStream calls of `batch` messages. */
export const streamLoad = async (address: string, events: ReadonlyArray<Buffer>, streams: number, batch: number): Promise<StreamResult> => {
  const clients = Array.from({ length: streams }, () => producerClient(address))
  const latencies: Array<number> = []
  const started = performance.now()
  await Promise.all(
    clients.map(async (client, s) => {
      for (let from = s * batch; from < events.length; from += streams * batch) {
        const t = performance.now()
        await streamCall(client, events.slice(from, from + batch))
        latencies.push(performance.now() - t)
      }
    })
  )
  const seconds = (performance.now() - started) / 1000
  clients.forEach((c) => c.close())
  latencies.sort((a, b) => a - b)
  return { events: events.length, seconds, eventsPerSecond: events.length / seconds, ackP50: percentile(latencies, 50), ackP99: percentile(latencies, 99) }
}

export interface UnaryResult {
  readonly calls: number
  readonly p50: number
  readonly p99: number
  readonly callsPerSecond: number
}

/** Unary Track calls, `inFlight` at a time: the acknowledgement latency of single events. */
export const unaryLoad = async (address: string, events: ReadonlyArray<Buffer>, inFlight: number): Promise<UnaryResult> => {
  const client = new grpc.Client(address, grpc.credentials.createInsecure())
  const latencies: Array<number> = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < events.length) {
        const event = events[next++]!
        const t = performance.now()
        await new Promise<void>((resolve, reject) =>
          client.makeUnaryRequest("/nudge.v1.IngestService/Track", identity, identity, event, (e) => (e === null ? resolve() : reject(e)))
        )
        latencies.push(performance.now() - t)
      }
    })
  )
  const seconds = (performance.now() - started) / 1000
  client.close()
  latencies.sort((a, b) => a - b)
  return { calls: events.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), callsPerSecond: events.length / seconds }
}
