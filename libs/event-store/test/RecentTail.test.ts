import { assert, describe, it } from "@effect/vitest"
import { Position } from "../src/EventStore.js"
import type { LogReads, Page } from "../src/internal/LocalLog.js"
import * as RecentTail from "../src/internal/RecentTail.js"

/** A database that holds positions 1..`stored` and counts what it is asked. */
const database = (stored: bigint) => {
  const asked = { readAll: 0, head: 0 }
  const reads: LogReads = {
    tombstoned: () => false,
    readStream: () => [],
    readAll: (after): Page => {
      asked.readAll += 1
      return { events: [], scannedTo: after > stored ? after : stored }
    },
    head: () => {
      asked.head += 1
      return stored
    }
  }
  return { reads, asked }
}

const event = (n: number) => ({ id: `e${n}`, type: "E", data: { n } })

/** One batch appending `ids` to `stream`, with the positions the writer gave (`duplicate` for those it had). */
const appendedBatch = (tail: ReturnType<typeof RecentTail.make>, stream: string, positions: ReadonlyArray<bigint | "duplicate">) => {
  const events = positions.map((_, i) => event(i))
  tail.appended(
    [{ stream, events, expected: "any" }],
    [{ stream, expected: "any", events: events.map((e) => ({ id: e.id, type: e.type, data: JSON.stringify(e.data), metadata: null })) }],
    [
      {
        nextRevision: BigInt(positions.length - 1),
        events: positions.map((p, i) => ({
          id: events[i]!.id,
          revision: BigInt(i),
          position: Position.of(p === "duplicate" ? 1n : p),
          duplicate: p === "duplicate"
        }))
      }
    ],
    0
  )
}

describe("RecentTail", () => {
  it("tells a caught-up follower there is nothing new without asking the database, and knows the head", () => {
    const { asked, reads } = database(10n)
    const tail = RecentTail.make(reads)
    assert.deepStrictEqual(tail.reads.readAll(10n, 100, {}), { events: [], scannedTo: 10n })
    appendedBatch(tail, "user-a", [11n, 12n])
    appendedBatch(tail, "user-b", ["duplicate", 13n])
    assert.strictEqual(tail.reads.head(), 13n)
    const page = tail.reads.readAll(10n, 100, { streamPrefixes: ["user-"] })
    assert.deepStrictEqual(page.events.map((e) => e.position.commit), [11n, 12n, 13n])
    assert.deepStrictEqual(tail.reads.readAll(13n, 100, {}), { events: [], scannedTo: 13n })
    assert.deepStrictEqual(asked, { readAll: 0, head: 1 })
  })

  it("asks the database for what it does not hold", () => {
    const { asked, reads } = database(10n)
    const tail = RecentTail.make(reads)
    appendedBatch(tail, "user-a", [11n])
    tail.reads.readAll(5n, 100, {})
    assert.strictEqual(asked.readAll, 1)
  })
})
