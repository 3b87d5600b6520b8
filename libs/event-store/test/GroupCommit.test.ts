import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { EventStore, GroupCommit, MemoryEventStore } from "../src/index.js"
import { eventStoreContract } from "./EventStoreContract.js"

eventStoreContract("group commit in front of the in-memory store", GroupCommit.layer.pipe(Layer.provide(MemoryEventStore.layerMemory)))

/** The in-memory store, except that an append to the stream "defect" throws instead of failing, as a bug would. */
const throwingStore = Layer.effect(
  EventStore,
  Effect.map(MemoryEventStore.make, (store) =>
    EventStore.of({
      ...store,
      appendMany: (requests) => {
        if (requests.some((r) => r.stream === "defect")) throw new Error("a defect in the store")
        return store.appendMany(requests)
      }
    })
  )
)

describe("GroupCommit", () => {
  it.live("fails the appends of a commit the store dies in, and commits the next ones", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const died = yield* Effect.exit(store.append("defect", [{ id: randomUUID(), type: "E", data: {} }], "any"))
      assert.isTrue(Exit.isFailure(died) && Cause.isDie(died.cause))
      const next = yield* store.append("user-1", [{ id: randomUUID(), type: "E", data: {} }], "no_stream")
      assert.strictEqual(next.nextRevision, 0n)
    }).pipe(Effect.timeout("5 seconds"), Effect.provide(GroupCommit.layer.pipe(Layer.provide(throwingStore)))))
})
