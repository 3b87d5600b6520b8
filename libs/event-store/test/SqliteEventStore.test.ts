import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { EventStore, GroupCommit, SqliteDatabase, SqliteEventStore, StoreUnavailable } from "../src/index.js"
import { eventStoreContract } from "./EventStoreContract.js"

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-sqlite-")), "events.db")

const layerAt = (filename: string, options: Omit<SqliteDatabase.SqliteOptions, "filename"> = {}) =>
  SqliteEventStore.layerSqlite.pipe(Layer.provide(SqliteDatabase.layer({ filename, ...options })))

eventStoreContract("embedded SQLite", layerAt(tempFile()))

describe("SqliteEventStore durability", () => {
  it.effect("keeps appended events and positions across a reopen", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const first = yield* Effect.gen(function* () {
        const store = yield* EventStore
        return yield* store.append("user-1", [{ id: "8d1b3a3e-0000-4000-8000-000000000001", type: "E", data: { a: 1 } }], "any")
      }).pipe(Effect.provide(layerAt(filename)))
      const reopened = yield* Effect.gen(function* () {
        const store = yield* EventStore
        const again = yield* store.append("user-1", [{ id: "8d1b3a3e-0000-4000-8000-000000000001", type: "E", data: { a: 1 } }], "any")
        const next = yield* store.append("user-1", [{ id: "8d1b3a3e-0000-4000-8000-000000000002", type: "E", data: { a: 2 } }], 0n)
        return { again, next, events: yield* store.read("user-1") }
      }).pipe(Effect.provide(layerAt(filename)))
      assert.isTrue(reopened.again.events[0]!.duplicate)
      assert.deepStrictEqual(reopened.events.map((e) => e.data), [{ a: 1 }, { a: 2 }])
      assert.isTrue(reopened.next.events[0]!.position.commit > first.events[0]!.position.commit)
    }))

  it.effect("a follower close to the head reads the same events as a fresh reader of the file, JSON-only values and deletes included", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const id = (n: number) => `8d1b3a3e-0000-4000-8000-${n.toString().padStart(12, "0")}`
      const followed = yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.append("user-a", [{ id: id(1), type: "E", data: { n: 1 } }], "any")
          const from = yield* store.head
          yield* store.appendMany([
            {
              stream: "user-a",
              events: [{ id: id(2), type: "E", data: { n: 2, nested: { ok: true }, gone: undefined, ratio: Number.NaN }, metadata: { m: 1 } }],
              expected: 0n
            },
            { stream: "user-b", events: [{ id: id(3), type: "E", data: { n: 3 } }, { id: id(1), type: "E", data: { n: 1 } }], expected: "any" },
            { stream: "rules", events: [{ id: id(4), type: "R", data: { n: 4 } }], expected: "any" }
          ])
          const users = yield* store.readAll({ after: from, streamPrefixes: ["user-"] })
          const beforeDelete = yield* store.readAll({ after: from })
          yield* store.deleteStream("user-b", "any")
          const afterDelete = yield* store.readAll({ after: from })
          return { from, users, beforeDelete, afterDelete }
        }).pipe(Effect.provide(layerAt(filename)))
      )
      const fresh = yield* Effect.gen(function* () {
        const store = yield* EventStore
        return yield* store.readAll({ after: followed.from })
      }).pipe(Effect.provide(layerAt(filename)))
      assert.deepStrictEqual(followed.users.map((e) => e.id), [id(2), id(3)])
      assert.deepStrictEqual(followed.beforeDelete.filter((e) => e.stream !== "user-b"), fresh)
      assert.deepStrictEqual(followed.afterDelete, fresh)
      assert.deepStrictEqual(fresh.map((e) => [e.stream, e.data]), [["user-a", { n: 2, nested: { ok: true }, ratio: null }], ["rules", { n: 4 }]])
    }))

  it.effect("a filtered follower catching up while writers commit sees every matching event once, in order", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const appended = yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* EventStore
          const append = (i: number) =>
            store.append(i % 3 === 0 ? `other-${i % 7}` : `user-${i % 11}`, [{ id: randomUUID(), type: "E", data: { i } }], "any")
          yield* Effect.forEach(Array.from({ length: 600 }, (_, i) => i), append, { concurrency: 4, discard: true })
          const follower = yield* store.subscribeAll({ streamPrefixes: ["user-"], maxCount: 7 }).pipe(
            Stream.map((e) => (e.data as { i: number }).i),
            Stream.take(800),
            Stream.runCollect,
            Effect.fork
          )
          yield* Effect.forEach(Array.from({ length: 600 }, (_, i) => 600 + i), append, { concurrency: 4, discard: true })
          return Chunk.toReadonlyArray(yield* Fiber.join(follower))
        }).pipe(Effect.provide(layerAt(filename)))
      )
      const matching = Array.from({ length: 1200 }, (_, i) => i).filter((i) => i % 3 !== 0)
      assert.deepStrictEqual([...appended].sort((a, b) => a - b), matching)
      assert.strictEqual(new Set(appended).size, 800)
    }), { timeout: 60_000 })

  it.live("fails an append JSON cannot hold, and goes on committing behind group commit", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      for (const data of [{ n: 1n }, cycle, undefined]) {
        const refused = yield* Effect.flip(store.append("user-json", [{ id: randomUUID(), type: "E", data }], "any"))
        assert.instanceOf(refused, StoreUnavailable)
      }
      const next = yield* store.append("user-json", [{ id: randomUUID(), type: "E", data: { n: 1 } }], "no_stream")
      assert.strictEqual(next.nextRevision, 0n)
    }).pipe(Effect.timeout("5 seconds"), Effect.provide(GroupCommit.layer.pipe(Layer.provide(layerAt(tempFile()))))))

  it.effect("refuses a second process-level owner of the same file", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const result = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* SqliteDatabase.open({ filename })
          return yield* Effect.either(SqliteDatabase.open({ filename }))
        })
      )
      assert.strictEqual(result._tag, "Left")
    }))

  it.effect("keeps the WAL short under steady commits: its copies run beside the writer, which rewinds it", () =>
    Effect.gen(function* () {
      const filename = tempFile()
      const payload = "x".repeat(1_000)
      const written = yield* Effect.gen(function* () {
        const store = yield* EventStore
        let walBytes = 0
        // Four writers at once keep the writer thread busy, so the WAL is seldom all copied at a commit (when SQLite
        // would start it over by itself) and only the rewinds it is asked for keep it short.
        const writer = (w: number) =>
          Effect.forEach(
            Array.from({ length: 100 }, (_, batch) => batch),
            (batch) =>
              store
                .appendMany(
                  Array.from({ length: 5 }, (_, s) => ({
                    stream: `user-${w}-${s}`,
                    events: Array.from({ length: 10 }, () => ({ id: randomUUID(), type: "E", data: { payload, batch } })),
                    expected: "any" as const
                  }))
                )
                .pipe(Effect.tap(() => (walBytes = Math.max(walBytes, fs.statSync(`${filename}-wal`).size)))),
            { discard: true }
          )
        yield* Effect.forEach([0, 1, 2, 3], writer, { concurrency: "unbounded", discard: true })
        const events = yield* store.readAll({ maxCount: 100_000 })
        return { walBytes, events: events.length }
      }).pipe(Effect.provide(layerAt(filename, { synchronous: "NORMAL", checkpoints: { intervalMs: 5, rewindFrames: 256, remainderFrames: 32 } })))
      assert.strictEqual(written.events, 20_000)
      // 5-7 MB measured on a quiet machine, 49 MB once with a load of 7 on 2 cores (the checkpointer thread starved);
      // 120 MB when the writer did not rewind (its own checkpoint waits for 256 MiB).
      assert.isBelow(written.walBytes, 80 * 1024 * 1024)
    }), { timeout: 60_000 })

  it("keeps every acknowledged event, in a sound file, when the process is killed while the WAL is copied back and rewound", { timeout: 60_000 }, async () => {
    const filename = tempFile()
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "support", "appendUntilKilled.ts"), filename], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let acked = -1
    try {
      await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`the writer exited (${code}) before it was killed`)))
        readline.createInterface({ input: child.stdout! }).on("line", (line) => {
          const batch = /^acked (\d+)$/.exec(line)?.[1]
          if (batch !== undefined) acked = Number(batch)
          // 600 batches of 10 KB: about 6 MB of events, many times the 128-page WAL the checkpoints rewind.
          if (acked >= 600) resolve()
        })
      })
    } finally {
      child.removeAllListeners("exit")
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve))
        child.kill("SIGKILL")
        await exited
      }
    }
    // The WAL header counts the times the WAL was started over (bytes 12-15).
    const header = Buffer.alloc(16)
    const wal = fs.openSync(`${filename}-wal`, "r")
    fs.readSync(wal, header, 0, 16, 0)
    fs.closeSync(wal)
    assert.isAbove(header.readUInt32BE(12), 0)
    const reopened = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const database = yield* SqliteDatabase.open({ filename })
          const store = yield* SqliteEventStore.make.pipe(Effect.provideService(SqliteDatabase.SqliteDatabase, database))
          return {
            integrity: database.reader.pragma("integrity_check", { simple: true }),
            events: yield* store.readAll({ maxCount: 1_000_000 })
          }
        })
      )
    )
    const batches = new Map<number, number>()
    for (const e of reopened.events) {
      const { batch } = e.data as { batch: number }
      batches.set(batch, (batches.get(batch) ?? 0) + 1)
    }
    assert.strictEqual(reopened.integrity, "ok")
    for (let batch = 0; batch <= acked; batch++) assert.strictEqual(batches.get(batch), 10, `batch ${batch}`)
  })
})
