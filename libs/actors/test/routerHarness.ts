import { assert } from "@effect/vitest"
import { EventId, RuleSetPublished, TriggerEvent, UserEvent } from "@nudge/domain"
import { type AppendResult, EventStore, Position, SqliteDatabase, SqliteEventStore } from "@nudge/event-store"
import { SqliteState, StateStore } from "@nudge/state"
import { Effect, Layer, Schedule } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Router, UserActors } from "../src/index.js"

/** The embedded event and state stores in a fresh folder. */
export const sqlite = () =>
  Layer.merge(SqliteEventStore.layerSqlite, SqliteState.layerSqlite).pipe(
    Layer.provide(SqliteDatabase.layer({ filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nudge-router-")), "events.db") }))
  )

/** User actors with small bounds (5 live users, a snapshot every 3 inputs) over `base`. */
export const stores = (options: Partial<UserActors.ActorOptions> = {}, base: ReturnType<typeof sqlite> = sqlite()) =>
  UserActors.layer({ maxLiveUsers: 5, snapshotEvery: 3, partitions: 1, passivateAfterMs: 600_000, ...options }).pipe(Layer.provideMerge(base))

let sent = 0
/** A Tracked event with a message id of its own and no properties. */
export const tracked = (userId: string, name: string, at: number) =>
  new UserEvent.Tracked({ messageId: `harness-${sent++}`, userId, name, occurredAt: at, receivedAt: at, properties: {}, context: {} })

/** Appends events in one commit, so the router takes them as one chunk; returns the position of the last. */
export const append = (events: ReadonlyArray<UserEvent.Tracked>) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const results = yield* store.appendMany(
      events.map((event) => ({
        stream: UserEvent.streamOf(event.userId),
        events: [{ id: EventId.forMessage(event.messageId), ...UserEvent.encode(event) }],
        expected: "any" as const
      }))
    )
    const last = results.at(-1)!
    assert.notProperty(last, "_tag")
    return Position.format((last as AppendResult).events[0]!.position)
  })

/** Publishes a rule set (YAML) as `PublishRules` stores it. */
export const publish = (version: number, text: string) =>
  Effect.flatMap(EventStore, (store) =>
    store.append(
      RuleSetPublished.stream,
      [
        {
          id: EventId.forMessage(`rules-${version}`),
          ...RuleSetPublished.encode(new RuleSetPublished.RuleSetPublished({ version, format: "yaml", text, publishedAt: 0 }))
        }
      ],
      "any"
    )
  )

export const checkpointReaches = (position: string) =>
  Effect.gen(function* () {
    const state = yield* StateStore
    const saved = (yield* state.get([Router.checkpointKey])).get(Router.checkpointKey)
    if (saved !== position) return yield* Effect.fail(`the checkpoint is at ${saved}, not yet at ${position}`)
  }).pipe(Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(1_000)))))

/** The user's stored firings: rule id and rule set version of each. */
export const firings = (userId: string) =>
  Effect.flatMap(EventStore, (store) => store.read(TriggerEvent.streamOf(userId))).pipe(
    Effect.map((events) =>
      events
        .filter((e) => e.type.startsWith("TriggerFired."))
        .map((e) => {
          const data = e.data as { readonly ruleId: string; readonly ruleSetVersion: number }
          return [data.ruleId, data.ruleSetVersion] as const
        })
    )
  )
