import { Effect, Layer } from "effect"
import { EventStore, type ProposedEvent, type RecordedEvent } from "./EventStore.js"
import * as LocalLog from "./internal/LocalLog.js"

const matches = (stream: string, prefixes: ReadonlyArray<string> | undefined) =>
  prefixes === undefined || prefixes.some((p) => stream.startsWith(p))

/** A store in process memory, for unit tests: same behaviour as the durable ones, nothing kept. */
export const makeLog = (): LocalLog.LocalLog<ProposedEvent> & LocalLog.LogReads => {
  const log: Array<RecordedEvent | undefined> = []
  const streams = new Map<string, LocalLog.StreamState>()
  const byStream = new Map<string, Array<number>>()
  const byId = new Map<string, number>()
  return {
    stream: (stream) => streams.get(stream),
    tombstoned: (stream) => streams.get(stream)?.status === "tombstoned",
    findEvent: (id) => {
      const i = byId.get(id)
      const e = i === undefined ? undefined : log[i]
      return e === undefined ? undefined : { stream: e.stream, revision: e.revision, position: BigInt(i!) }
    },
    insert: (stream, revision, event, created) => {
      const i = log.length
      log.push({
        id: event.id,
        stream,
        type: event.type,
        revision,
        position: { commit: BigInt(i), prepare: BigInt(i) },
        data: structuredClone(event.data),
        metadata: structuredClone(event.metadata ?? null),
        created
      })
      byId.set(event.id, i)
      const indexes = byStream.get(stream) ?? []
      indexes.push(i)
      byStream.set(stream, indexes)
      return BigInt(i)
    },
    setStream: (stream, state) => void streams.set(stream, state),
    deleteEvents: (stream) => {
      for (const i of byStream.get(stream) ?? []) {
        byId.delete(log[i]!.id)
        log[i] = undefined
      }
      byStream.delete(stream)
    },
    readStream: (stream, from, direction, maxCount) => {
      const events = (byStream.get(stream) ?? []).map((i) => log[i]!)
      const selected =
        direction === "forwards"
          ? events.filter((e) => from === undefined || e.revision >= from)
          : events.filter((e) => from === undefined || e.revision <= from).reverse()
      return selected.slice(0, maxCount)
    },
    readAll: (after, maxCount, filter) => {
      const events: Array<RecordedEvent> = []
      let i = Number(after) + 1
      for (; i < log.length && events.length < maxCount; i++) {
        const e = log[i]
        if (e !== undefined && matches(e.stream, filter.streamPrefixes)) events.push(e)
      }
      return { events, scannedTo: BigInt(i - 1) }
    },
    head: () => BigInt(log.length - 1),
    transaction: (f) => f()
  }
}

export const make = Effect.suspend(() => {
  const log = makeLog()
  return LocalLog.make(log, LocalLog.writesInThread(log))
})

export const layerMemory = Layer.effect(EventStore, make)
