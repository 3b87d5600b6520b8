import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Fiber, type Layer, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { EventStore, Position, type ProposedEvent, StreamDeleted, WrongExpectedRevision } from "../src/index.js"

const event = (type: string, data: unknown = {}): ProposedEvent => ({ id: randomUUID(), type, data })
const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`

/**
 * One behaviour for every adapter: each store's test file runs this suite
 * against its own layer, so the embedded, in-memory and EventStoreDB stores
 * cannot drift apart.
 */
export const eventStoreContract = (name: string, layer: Layer.Layer<EventStore, unknown>) =>
  describe(`EventStore contract: ${name}`, () => {
    it.layer(layer, { timeout: 30_000 })((it) => {
      it.effect("appends to a new stream and refuses a second no_stream append", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = unique("user-a")
          const first = yield* store.append(stream, [event("Tracked.v1", { n: 1 }), event("Tracked.v1", { n: 2 })], "no_stream")
          assert.strictEqual(first.nextRevision, 1n)
          assert.deepStrictEqual(first.events.map((e) => e.revision), [0n, 1n])
          const second = yield* Effect.either(store.append(stream, [event("Tracked.v1")], "no_stream"))
          assert.isTrue(Either.isLeft(second))
          const error = Either.getLeft(second).pipe((o) => (o._tag === "Some" ? o.value : undefined))
          assert.instanceOf(error, WrongExpectedRevision)
          assert.strictEqual(error!.actual, "1")
          const events = yield* store.read(stream)
          assert.deepStrictEqual(events.map((e) => e.data), [{ n: 1 }, { n: 2 }])
        }))

      it.effect("checks exact, stream_exists and any expectations", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = unique("user-b")
          const missing = yield* Effect.either(store.append(stream, [event("E")], "stream_exists"))
          assert.isTrue(Either.isLeft(missing))
          yield* store.append(stream, [event("E")], "any")
          const exact = yield* store.append(stream, [event("E")], 0n)
          assert.strictEqual(exact.nextRevision, 1n)
          const stale = yield* Effect.either(store.append(stream, [event("E")], 0n))
          assert.isTrue(Either.isLeft(stale))
          yield* store.append(stream, [event("E")], "stream_exists")
          assert.strictEqual((yield* store.read(stream)).length, 3)
        }))

      it.effect("reads forwards and backwards from a revision, with a count", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = unique("user-c")
          yield* store.append(stream, [0, 1, 2, 3, 4].map((n) => event("E", { n })), "no_stream")
          const fwd = yield* store.read(stream, { from: 2n, maxCount: 2 })
          assert.deepStrictEqual(fwd.map((e) => e.revision), [2n, 3n])
          const back = yield* store.read(stream, { from: 3n, direction: "backwards", maxCount: 3 })
          assert.deepStrictEqual(back.map((e) => e.revision), [3n, 2n, 1n])
          const last = yield* store.read(stream, { direction: "backwards", maxCount: 1 })
          assert.deepStrictEqual(last.map((e) => e.data), [{ n: 4 }])
          assert.deepStrictEqual(yield* store.read(unique("never-written")), [])
        }))

      it.effect("orders events from all streams by a global position", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const prefix = unique("order")
          const a = yield* store.append(`${prefix}-a`, [event("E")], "any")
          const b = yield* store.append(`${prefix}-b`, [event("E")], "any")
          const c = yield* store.append(`${prefix}-a`, [event("E")], "any")
          const positions = [a, b, c].map((r) => r.events[0]!.position)
          assert.strictEqual(Position.compare(positions[0]!, positions[1]!), -1)
          assert.strictEqual(Position.compare(positions[1]!, positions[2]!), -1)
          const all = yield* store.readAll({ after: Position.start, streamPrefixes: [prefix], maxCount: 10_000 })
          const mine = all.filter((e) => e.stream.startsWith(prefix))
          assert.deepStrictEqual(mine.map((e) => e.stream), [`${prefix}-a`, `${prefix}-b`, `${prefix}-a`])
          const head = yield* store.head
          assert.isTrue(Position.compare(head, positions[2]!) >= 0)
        }))

      it.effect("subscribes to all from a position: catches up, then goes live, no gap, no duplicate", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const prefix = unique("sub")
          const other = unique("noise")
          const before = yield* store.append(`${prefix}-1`, [event("E", { n: 0 }), event("E", { n: 1 })], "any")
          yield* store.append(other, [event("E", { n: -1 })], "any")
          const fiber = yield* store
            .subscribeAll({ after: before.events[0]!.position, streamPrefixes: [prefix] })
            .pipe(Stream.take(6), Stream.runCollect, Effect.fork)
          for (let n = 2; n <= 6; n++) {
            yield* store.append(`${prefix}-${n % 2}`, [event("E", { n })], "any")
            yield* store.append(other, [event("E", { n: -n })], "any")
          }
          const seen = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
          assert.deepStrictEqual(seen.map((e) => (e.data as { n: number }).n), [1, 2, 3, 4, 5, 6])
          for (let i = 1; i < seen.length; i++) {
            assert.strictEqual(Position.compare(seen[i - 1]!.position, seen[i]!.position), -1)
          }
        }))

      it.effect("subscribes from the start of a store with nothing to match yet, and waits for the first match", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const prefix = unique("first")
          const fiber = yield* store.subscribeAll({ streamPrefixes: [prefix] }).pipe(Stream.take(1), Stream.runCollect, Effect.fork)
          // Let the subscriber reach its wait before the first match arrives.
          yield* Effect.repeatN(Effect.yieldNow(), 20)
          yield* store.append(`${prefix}-1`, [event("E", { first: true })], "any")
          const seen = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
          assert.deepStrictEqual(seen.map((e) => e.data), [{ first: true }])
        }))

      it.effect("soft-deletes a stream that can be written again, and tombstones one for good", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const soft = unique("soft")
          yield* store.append(soft, [event("E"), event("E")], "no_stream")
          yield* store.deleteStream(soft, 1n)
          assert.deepStrictEqual(yield* store.read(soft), [])
          const again = yield* store.append(soft, [event("E", { again: true })], "any")
          assert.isTrue(again.nextRevision >= 2n)
          assert.deepStrictEqual((yield* store.read(soft)).map((e) => e.data), [{ again: true }])

          const hard = unique("hard")
          yield* store.append(hard, [event("E")], "no_stream")
          yield* store.tombstone(hard, "any")
          const read = yield* Effect.either(store.read(hard))
          assert.isTrue(Either.isLeft(read) && read.left instanceof StreamDeleted)
          const write = yield* Effect.either(store.append(hard, [event("E")], "any"))
          assert.isTrue(Either.isLeft(write) && write.left instanceof StreamDeleted)
        }))

      it.effect("lets exactly one of two concurrent writers with the same expectation win", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = unique("race")
          yield* store.append(stream, [event("E")], "no_stream")
          const results = yield* Effect.all(
            [store.append(stream, [event("A")], 0n), store.append(stream, [event("B")], 0n)].map(Effect.either),
            { concurrency: 2 }
          )
          assert.strictEqual(results.filter(Either.isRight).length, 1)
          assert.strictEqual(results.filter(Either.isLeft).length, 1)
          assert.strictEqual((yield* store.read(stream)).length, 2)
        }))

      it.effect("treats a retried event id as already appended", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = unique("idem")
          const e = event("E", { once: true })
          const first = yield* store.append(stream, [e], "any")
          const again = yield* store.append(stream, [e], "any")
          assert.strictEqual((yield* store.read(stream)).length, 1)
          assert.strictEqual(again.nextRevision, first.nextRevision)
          if (store.idempotence === "exact") {
            assert.isTrue(again.events[0]!.duplicate)
            assert.deepStrictEqual(again.events[0]!.position, first.events[0]!.position)
          }
        }))

      it.effect("stores an id repeated within one batch once, answering each repeat as a duplicate of it", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          // EventStoreDB deduplicates recent writes by its own rules, so only an exact store promises this.
          if (store.idempotence !== "exact") return
          const twice = unique("twice")
          const again = unique("again")
          const other = unique("other")
          const repeated = event("E", { repeated: true })
          const results = yield* store.appendMany([
            { stream: twice, events: [repeated, repeated, event("E")], expected: "no_stream" },
            { stream: again, events: [repeated], expected: "any" },
            { stream: other, events: [event("E")], expected: "no_stream" }
          ])
          const [first, second, third] = results.map((r) => ("_tag" in r ? assert.fail(r.message) : r))
          const stored = first!.events[0]!
          assert.deepStrictEqual(first!.events.map((e) => [e.revision, e.duplicate]), [[0n, false], [0n, true], [1n, false]])
          assert.deepStrictEqual(first!.events[1]!.position, stored.position)
          assert.deepStrictEqual(second!.events.map((e) => [e.id, e.revision, e.position, e.duplicate]), [[repeated.id, 0n, stored.position, true]])
          assert.strictEqual(third!.nextRevision, 0n)
          assert.strictEqual((yield* store.read(twice)).length, 2)
          assert.deepStrictEqual(yield* store.read(again), [])
        }))

      it.effect("matches a stream prefix ending in a character beyond the Basic Multilingual Plane", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const prefix = `${unique("user")}-😀`
          const appended = yield* store.append(`${prefix}-alice`, [event("E")], "any")
          // The same high surrogate as 😀: only a whole-character comparison tells them apart.
          yield* store.append(`${prefix.slice(0, -2)}😃-bob`, [event("E")], "any")
          const read = yield* store.readAll({ after: Position.start, streamPrefixes: [prefix], maxCount: 10_000 })
          assert.deepStrictEqual(read.map((e) => e.id), [appended.events[0]!.id])
        }))

      it.effect("appends many requests at once, each succeeding or failing on its own", () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const ok = unique("many-ok")
          const bad = unique("many-bad")
          yield* store.append(bad, [event("E")], "no_stream")
          const results = yield* store.appendMany([
            { stream: ok, events: [event("E")], expected: "no_stream" },
            { stream: bad, events: [event("E")], expected: "no_stream" },
            { stream: ok, events: [event("E")], expected: 0n }
          ])
          assert.isFalse("_tag" in results[0]!)
          assert.instanceOf(results[1], WrongExpectedRevision)
          assert.isFalse("_tag" in results[2]!)
          assert.strictEqual((yield* store.read(ok)).length, 2)
          assert.strictEqual((yield* store.read(bad)).length, 1)
        }))
    })
  })
