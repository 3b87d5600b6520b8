import { TriggerEvent, UserEvent } from "@nudge/domain"
import {
  type AppendError,
  type AppendRequest,
  type AppendResult,
  EventStore,
  type ProposedEvent,
  type RecordedEvent,
  type StoreUnavailable,
  type StreamDeleted
} from "@nudge/event-store"
import { RulesState, type Timer } from "@nudge/rules"
import { type StateUnavailable, StateStore, TimerStore } from "@nudge/state"
import { Clock, Context, Effect, Either, Layer, Ref } from "effect"
import type { ActiveRules } from "./ActiveRules.js"
import * as ActiveRulesModule from "./ActiveRules.js"
import * as UserDecider from "./UserDecider.js"
import { empty, type UserState } from "./UserState.js"

export interface ActorOptions {
  /** Users whose state stays in memory; beyond it the least recently used are passivated (snapshot, then dropped). */
  readonly maxLiveUsers: number
  /** A live user's state is snapshotted after this many inputs, so an activation replays at most that many. */
  readonly snapshotEvery: number
  /** Partition workers: users are hashed onto them; each handles its users strictly in order. */
  readonly partitions: number
  /** A user with no input for this long is passivated (snapshot, then dropped), however few users are live. */
  readonly passivateAfterMs: number
}

/**
 * One partition by default: each partition commits its own decisions per
 * chunk, and the embedded store commits on the one Node thread anyway, so
 * more partitions only add commits (measured: Track→TriggerFired p99 at
 * 200 events/s 25 ms with one, 76 ms with four). A store with parallel
 * writes (EventStoreDB) can use more.
 *
 * 10,000 live users, not more: every live state is work for each full
 * garbage collection, whose pauses set the tail latency. At 2,000 new users a
 * second (bench:e2e's latency phase over 45 s) the p99 was 198-204 ms with
 * 50,000 and 101-109 ms with 10,000, while the router over 100,000 users
 * kept its rate (bench:router 14,578-14,688 inputs/s with 50,000,
 * 14,198-14,819 with 10,000): an activation from a snapshot is cheap next
 * to a long pause.
 */
export const defaults: ActorOptions = { maxLiveUsers: 10_000, snapshotEvery: 200, partitions: 1, passivateAfterMs: 10 * 60_000 }

export type ActorError = StoreUnavailable | StateUnavailable | StreamDeleted

interface Live {
  state: UserState
  sinceSnapshot: number
  /** When the actors last took an input of this user (the clock's time, not event time). */
  lastInput: number
}

/**
 * A partition's live users, and how many batches decided for each are not yet complete. Such
 * a user's state is ahead of the store (its trigger revision counts decisions still being
 * appended), so it is neither snapshotted nor passivated until they are.
 */
interface Partition {
  readonly live: Map<string, Live>
  readonly pending: Map<string, number>
}

/** One user's share of a batch, decided on `entry`: a recovery or a drop replaces the entry, and voids the work. */
interface Work {
  readonly userId: string
  readonly entry: Live
  readonly decisions: ReadonlyArray<TriggerEvent.TriggerEvent>
  readonly request: AppendRequest | undefined
  /** The trigger revision the append leaves when it succeeds. */
  readonly nextRevision: number
  readonly cancelled: ReadonlyArray<string>
  readonly indexedAgain: ReadonlyArray<TriggerEvent.TriggerEvent>
}

/**
 * What deciding leaves to write once its decisions are stored: snapshots, the firing
 * index and timers no longer needed. All of it can be rebuilt from the log, so a caller
 * may write it while the next inputs are decided (see the router).
 */
export interface Derived {
  readonly state: ReadonlyArray<readonly [string, string]>
  readonly cancelledTimers: ReadonlyArray<string>
}

/**
 * Inputs decided in memory whose decisions are not stored yet. `commit` stores them and gives
 * the step that completes the batch (recoveries, snapshots, passivation); a caller may decide
 * the next batch while a commit is in flight, and runs each completion before it commits the
 * next batch (see the router).
 */
export interface Batch {
  readonly commit: Effect.Effect<Effect.Effect<Derived, ActorError>, ActorError>
}

export const combine = (parts: ReadonlyArray<Derived>): Derived =>
  parts.length === 1
    ? parts[0]!
    : { state: parts.flatMap((p) => p.state), cancelledTimers: parts.flatMap((p) => p.cancelledTimers) }

export const snapshotKey = (userId: string) => `snapshot:${userId}`
export const firingKey = (firingId: string) => `firing:${firingId}`

/**
 * Deciding is synchronous; over a large chunk it would hold the event loop
 * long enough to delay acknowledgements. A macrotask yield every few hundred
 * events lets the gRPC sockets be served in between (a microtask yield would not).
 */
const yieldEvery = 256
const yieldToIo = Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))

const userOf = (stream: string) => stream.slice(UserEvent.streamPrefix.length)

const hash = (s: string) => {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

const toInput = (e: RecordedEvent): UserDecider.Input | undefined => {
  const decoded = UserEvent.decode(e.type, e.data)
  return Either.isRight(decoded) ? { event: decoded.right, eventId: e.id, revision: Number(e.revision) } : undefined
}

/**
 * One index entry per timer. A batch schedules its new timers before it removes the ones it cancelled, so a timer
 * rescheduled for another time, or by a new version of its rule for the same time, must not share the cancelled
 * one's key: the due time and the rule's version are part of it.
 */
export const timerKey = (userId: string, timer: { readonly ruleId: string; readonly ruleVersion: number; readonly dueAt: number }) =>
  `${userId}|${timer.ruleId}|${timer.ruleVersion}|${timer.dueAt}`

/**
 * User actors: one logical actor per user (its state, its inputs strictly in
 * order), multiplexed onto a few partition workers that run the pure decider
 * synchronously over a batch. Effect structures the I/O around it: loading a
 * user (snapshot plus the tails of both streams), appending decisions with
 * the exact expected revision, timers, snapshots and passivation.
 */
export class UserActors extends Context.Tag("@nudge/actors/UserActors")<
  UserActors,
  {
    /**
     * Inputs from `user-` streams in global order; resolves when every decision they cause is stored. Users
     * idle past `passivateAfterMs` are passivated on the way, so an empty call is the idle sweep.
     */
    readonly decide: (events: ReadonlyArray<RecordedEvent>) => Effect.Effect<Derived, ActorError>
    /** `decide` in two steps: the inputs are decided now, and their decisions stored by the batch's `commit`. */
    readonly begin: (events: ReadonlyArray<RecordedEvent>) => Effect.Effect<Batch, ActorError>
    readonly options: ActorOptions
    /** `decide`, then write what it left. */
    readonly handle: (events: ReadonlyArray<RecordedEvent>) => Effect.Effect<void, ActorError>
    readonly setRules: (rules: ActiveRules) => Effect.Effect<void>
    /**
     * Drops every live user without a snapshot: they reload from their last stored one and the log. A router
     * (re)starting from its checkpoint needs this, since live users may have moved past it (a failed write).
     */
    readonly forgetAll: Effect.Effect<void>
    /** Snapshots every live user whose decisions are all stored (at shutdown); the others reload from the log. */
    readonly passivateAll: Effect.Effect<void, StateUnavailable>
    readonly liveUsers: Effect.Effect<number>
  }
>() {}

export const layer = (options: ActorOptions = defaults) =>
  Layer.scoped(
    UserActors,
    Effect.gen(function* () {
      const store = yield* EventStore
      const state = yield* StateStore
      const timers = yield* TimerStore
      const rulesRef = yield* Ref.make<ActiveRules>(ActiveRulesModule.none)
      const partitions: Array<Partition> = Array.from({ length: options.partitions }, () => ({ live: new Map(), pending: new Map() }))
      const livePerPartition = Math.max(1, Math.floor(options.maxLiveUsers / options.partitions))
      /**
       * Partitions decide and commit side by side, but one (the default) runs in the batch's own fiber: a
       * concurrent `Effect.forEach` forks a fiber per element, about 50 µs a call here against 2 in sequence, and
       * a live router makes two such calls per chunk, hundreds of chunks a second.
       */
      const concurrency = partitions.length > 1 ? "unbounded" : 1
      /**
       * Where the inputs decided so far end in the log. A replay from the store stops there: the user's later
       * events belong to later batches, which a new rule set may come before (they would be decided with the old
       * rules, then skipped as already folded in). A recovery replays the batch decided after the failed one too,
       * since that batch's work for the user is void. Commit positions only: an EventStoreDB before 22.6 gives a
       * stream read's events their write's commit position, and a rule set is never in a user stream's write.
       */
      let frontier: bigint | undefined
      const decidedSoFar = (tail: ReadonlyArray<RecordedEvent>) => {
        const limit = frontier
        return limit === undefined ? tail : tail.filter((e) => e.position.commit <= limit)
      }

      const snapshotEntries = (users: Iterable<UserState>) =>
        Array.from(users, (u) => [snapshotKey(u.userId), JSON.stringify({ ...u, rules: RulesState.snapshot(u.rules) })] as const)

      /**
       * Replays a user's inputs after its snapshot (stored JSON, if any), deciding what is not yet stored.
       *
       * Activations are frequent (users beyond the live bound) and each stream read costs tens of microseconds,
       * so an activation `inHand` (the user's events of the chunk being decided) reads neither stream when the
       * snapshot ends right before them: the inputs after the snapshot are then exactly those in hand, and the
       * decisions stored after it are none, since a snapshot is written after the decisions it counts. Should one
       * have been lost (a crash), the next append, made with the snapshot's revision, fails and `recover` reads
       * everything. Decisions the replay finds stored come back too (`alreadyStored`): their firing index entries
       * may not have landed (a failed derived write).
       */
      const activate = (
        userId: string,
        snapshot: string | undefined,
        rules: ActiveRules,
        inHand: ReadonlyArray<RecordedEvent> = []
      ) => {
        const saved = snapshot === undefined ? undefined : (JSON.parse(snapshot) as UserState)
        const base = saved === undefined ? empty(userId) : { ...saved, rules: RulesState.revive(saved.rules) }
        if (saved !== undefined && inHand.length > 0 && Number(inHand[0]!.revision) === base.userRevision + 1) {
          return Effect.succeed(replay(base, [], inHand, rules))
        }
        return Effect.gen(function* () {
          const triggerTail = yield* store.read(TriggerEvent.streamOf(userId), { from: BigInt(base.triggerRevision + 1) })
          const userTail = decidedSoFar(yield* store.read(UserEvent.streamOf(userId), { from: BigInt(base.userRevision + 1) }))
          return replay(base, triggerTail, userTail, rules)
        })
      }

      /** Decides `userTail` on `base`; what `triggerTail` (stored after `base`) already holds is not decided again. */
      const replay = (
        base: UserState,
        triggerTail: ReadonlyArray<RecordedEvent>,
        userTail: ReadonlyArray<RecordedEvent>,
        rules: ActiveRules
      ) => {
        const stored = new Set(triggerTail.map((e) => e.id))
        const last = triggerTail.at(-1)
        let current: UserState = { ...base, triggerRevision: last === undefined ? base.triggerRevision : Number(last.revision) }
        const decisions: Array<TriggerEvent.TriggerEvent> = []
        const alreadyStored: Array<TriggerEvent.TriggerEvent> = []
        const cancelled: Array<Timer.TimerRequest> = []
        for (const e of userTail) {
          const input = toInput(e)
          if (input === undefined) continue
          const decided = UserDecider.decide(rules, current, input)
          current = decided.state
          cancelled.push(...decided.cancelled)
          for (const d of decided.decisions) (stored.size > 0 && stored.has(TriggerEvent.eventIdOf(d)) ? alreadyStored : decisions).push(d)
        }
        return { state: current, decisions, alreadyStored, cancelled, replayed: userTail.length }
      }

      /**
       * One event per decision id: the rules can name the same cause for two deadlines of one rule (an absence
       * timer rescheduled from a timer keeps the first anchor's id), and two events with one id in an append would
       * fail the whole commit, every user's decisions with it, again on every retry.
       */
      const appendRequest = (s: UserState, decisions: ReadonlyArray<TriggerEvent.TriggerEvent>): AppendRequest => {
        const events = new Map<string, ProposedEvent>()
        for (const d of decisions) {
          const id = TriggerEvent.eventIdOf(d)
          if (!events.has(id)) events.set(id, { id, ...TriggerEvent.encode(d) })
        }
        return {
          stream: TriggerEvent.streamOf(s.userId),
          events: [...events.values()],
          expected: s.triggerRevision < 0 ? "no_stream" : BigInt(s.triggerRevision)
        }
      }

      const timerEntries = (decisions: ReadonlyArray<TriggerEvent.TriggerEvent>) =>
        decisions.flatMap((d) =>
          d._tag === "TimerScheduled"
            ? [
                {
                  key: timerKey(d.userId, d),
                  userId: d.userId,
                  dueAt: d.dueAt,
                  payload: JSON.stringify({ ruleId: d.ruleId, ruleVersion: d.ruleVersion, dueAt: d.dueAt, anchorEventId: d.anchorEventId })
                }
              ]
            : []
        )

      const indexEntries = (decisions: ReadonlyArray<TriggerEvent.TriggerEvent>) =>
        decisions.flatMap((d) => (d._tag === "TriggerFired" || d._tag === "TriggerSuppressed" ? [[firingKey(d.firingId), d.userId] as const] : []))

      /**
       * Drops the least recently used users beyond the bound, and those idle since `now - passivateAfterMs`;
       * their snapshots are for the caller to write. The map is in order of last input, so both stop at the
       * first user that stays, or that has decisions still being stored (those users came last).
       */
      const passivate = ({ live, pending }: Partition, now: number) => {
        const evicted: Array<UserState> = []
        const idleSince = now - options.passivateAfterMs
        for (const entry of live.values()) {
          if (live.size - evicted.length <= livePerPartition && entry.lastInput > idleSince) break
          if (pending.has(entry.state.userId)) break
          evicted.push(entry.state)
        }
        for (const s of evicted) live.delete(s.userId)
        return evicted
      }

      /**
       * Rebuilds a user from its snapshot and both streams, storing what the
       * replay decides that is not stored yet; if even that append loses a
       * race, the user is dropped and its next input reloads it. Returns the
       * decisions of the replay that are stored, for the firing index.
       */
      const recover = (live: Map<string, Live>, userId: string, rules: ActiveRules, now: number) =>
        Effect.gen(function* () {
          const raw = (yield* state.get([snapshotKey(userId)])).get(snapshotKey(userId))
          const activated = yield* activate(userId, raw, rules)
          if (activated.decisions.length === 0) {
            live.set(userId, { state: activated.state, sinceSnapshot: activated.replayed, lastInput: now })
            return activated.alreadyStored
          }
          yield* timers.schedule(timerEntries(activated.decisions))
          const [result] = yield* store.appendMany([appendRequest(activated.state, activated.decisions)])
          if (result === undefined || "_tag" in result) {
            live.delete(userId)
            return activated.alreadyStored
          }
          live.set(userId, {
            state: { ...activated.state, triggerRevision: Number(result.nextRevision) },
            sinceSnapshot: activated.replayed,
            lastInput: now
          })
          return [...activated.alreadyStored, ...activated.decisions]
        })

      const hold = ({ pending }: Partition, userId: string) => pending.set(userId, (pending.get(userId) ?? 0) + 1)
      const release = ({ pending }: Partition, userId: string) => {
        const left = (pending.get(userId) ?? 0) - 1
        if (left > 0) pending.set(userId, left)
        else pending.delete(userId)
      }
      /** On any failure a batch's users are dropped, to be reloaded from the log. */
      const dropAll = (p: Partition, userIds: Iterable<string>) =>
        Effect.sync(() => {
          for (const userId of userIds) {
            p.live.delete(userId)
            p.pending.delete(userId)
          }
        })

      /**
       * Decides a partition's share of a batch in memory. A user with decisions gets the trigger revision
       * its append will leave, so a next batch can be decided on it before that append is confirmed.
       */
      const prepare = (p: Partition, events: ReadonlyArray<RecordedEvent>, rules: ActiveRules, now: number) =>
        Effect.gen(function* () {
          const live = p.live
          const byUser = new Map<string, Array<RecordedEvent>>()
          for (const e of events) {
            const userId = userOf(e.stream)
            const list = byUser.get(userId)
            if (list === undefined) byUser.set(userId, [e])
            else list.push(e)
          }
          // A user whose first input here is the first event of its stream is new: nothing to load. Should it not be
          // (a crash before its snapshot), the append with "no_stream" fails and the user is recovered from the log.
          const isNew = (userId: string) => byUser.get(userId)![0]!.revision === 0n
          const missing = [...byUser.keys()].filter((u) => !live.has(u) && !isNew(u))
          const snapshots = missing.length === 0 ? new Map<string, string>() : yield* state.get(missing.map(snapshotKey))
          const work: Array<Work> = []
          let sinceYield = 0
          for (const [userId, userEvents] of byUser) {
            sinceYield += userEvents.length
            if (sinceYield >= yieldEvery) {
              sinceYield = 0
              yield* yieldToIo
            }
            let entry = live.get(userId)
            const decisions: Array<TriggerEvent.TriggerEvent> = []
            const cancelled: Array<string> = []
            let indexedAgain: ReadonlyArray<TriggerEvent.TriggerEvent> = []
            if (entry === undefined && isNew(userId)) {
              entry = { state: empty(userId), sinceSnapshot: 0, lastInput: now }
            } else if (entry === undefined) {
              const raw = snapshots.get(snapshotKey(userId))
              const activated = yield* activate(userId, raw, rules, userEvents)
              entry = { state: activated.state, sinceSnapshot: activated.replayed, lastInput: now }
              decisions.push(...activated.decisions)
              indexedAgain = activated.alreadyStored
              cancelled.push(...activated.cancelled.map((t) => timerKey(userId, t)))
            } else {
              // Least recently used first: re-inserting moves the user to the end.
              live.delete(userId)
              entry.lastInput = now
            }
            live.set(userId, entry)
            let current = entry.state
            for (const e of userEvents) {
              if (Number(e.revision) <= current.userRevision) continue
              const input = toInput(e)
              if (input === undefined) continue
              const decided = UserDecider.decide(rules, current, input)
              current = decided.state
              if (decided.decisions.length > 0) decisions.push(...decided.decisions)
              for (const t of decided.cancelled) cancelled.push(timerKey(userId, t))
              entry.sinceSnapshot += 1
            }
            const request = decisions.length === 0 ? undefined : appendRequest(current, decisions)
            const nextRevision = current.triggerRevision + (request?.events.length ?? 0)
            entry.state = request === undefined ? current : { ...current, triggerRevision: nextRevision }
            hold(p, userId)
            work.push({ userId, entry, decisions, request, nextRevision, cancelled, indexedAgain })
          }
          return work
        }).pipe(Effect.onError(() => dropAll(p, events.map((e) => userOf(e.stream)))))

      /** Stores a prepared share's decisions, but those of users recovered or dropped since it was decided. */
      const commit = (p: Partition, work: ReadonlyArray<Work>, rules: ActiveRules, now: number) =>
        Effect.gen(function* () {
          const writes = work.filter((w) => w.request !== undefined && p.live.get(w.userId) === w.entry)
          // The timer index first: a timer indexed for a decision that is then lost only wakes the actor for nothing.
          yield* timers.schedule(timerEntries(writes.flatMap((w) => w.decisions)))
          const results = writes.length === 0 ? [] : yield* store.appendMany(writes.map((w) => w.request!))
          return complete(p, work, writes, results, rules, now)
        }).pipe(Effect.onError(() => dropAll(p, work.map((w) => w.userId))))

      /**
       * What follows the appends: a user whose append failed, or left another revision than its state expects
       * (the trigger stream moved under it: a rebalance, or a "new" user that was not), is rebuilt from the log,
       * and the work of later batches decided on its old state is void. Then snapshots and passivation, for
       * users with no decisions still being stored.
       */
      const complete = (
        p: Partition,
        work: ReadonlyArray<Work>,
        writes: ReadonlyArray<Work>,
        results: ReadonlyArray<AppendResult | AppendError>,
        rules: ActiveRules,
        now: number
      ) =>
        Effect.gen(function* () {
          const stored: Array<TriggerEvent.TriggerEvent> = []
          for (let i = 0; i < writes.length; i++) {
            const result = results[i]!
            const w = writes[i]!
            if (!("_tag" in result) && Number(result.nextRevision) === w.nextRevision) {
              stored.push(...w.decisions)
              continue
            }
            // The user's count of batches in flight stays: later batches still hold it, and release it as they complete.
            stored.push(...(yield* recover(p.live, w.userId, rules, now)))
          }
          const cancelled: Array<string> = []
          const snapshotsDue: Array<UserState> = []
          for (const w of work) {
            release(p, w.userId)
            const entry = p.live.get(w.userId)
            if (entry !== w.entry) continue
            cancelled.push(...w.cancelled)
            stored.push(...w.indexedAgain)
            if (entry.sinceSnapshot >= options.snapshotEvery && !p.pending.has(w.userId)) {
              entry.sinceSnapshot = 0
              snapshotsDue.push(entry.state)
            }
          }
          const derived: Derived = {
            state: [...snapshotEntries([...snapshotsDue, ...passivate(p, now)]), ...indexEntries(stored)],
            cancelledTimers: cancelled
          }
          return derived
        }).pipe(Effect.onError(() => dropAll(p, work.map((w) => w.userId))))

      const begin = (events: ReadonlyArray<RecordedEvent>) =>
        Effect.gen(function* () {
          const rules = yield* Ref.get(rulesRef)
          const now = yield* Clock.currentTimeMillis
          const last = events.at(-1)
          if (last !== undefined) frontier = last.position.commit
          const split = partitions.map(() => [] as Array<RecordedEvent>)
          for (const e of events) split[hash(e.stream) % partitions.length]!.push(e)
          // A partition with no inputs is still completed: that is its idle sweep.
          const prepared = yield* Effect.forEach(split, (part, i) => prepare(partitions[i]!, part, rules, now), { concurrency })
          const batch: Batch = {
            commit: Effect.forEach(prepared, (work, i) => commit(partitions[i]!, work, rules, now), { concurrency }).pipe(
              Effect.map((completions) => Effect.map(Effect.all(completions), combine))
            )
          }
          return batch
        })

      const decide = (events: ReadonlyArray<RecordedEvent>) =>
        begin(events).pipe(
          Effect.flatMap((batch) => batch.commit),
          Effect.flatten
        )

      return {
        decide,
        begin,
        options,
        handle: (events) =>
          Effect.flatMap(decide(events), (derived) => Effect.zipRight(state.set(derived.state), timers.remove(derived.cancelledTimers))),
        setRules: (rules) => Ref.set(rulesRef, rules),
        forgetAll: Effect.sync(() => {
          partitions.forEach((p) => {
            p.live.clear()
            p.pending.clear()
          })
          frontier = undefined
        }),
        passivateAll: Effect.suspend(() =>
          state.set(snapshotEntries(partitions.flatMap((p) => [...p.live.values()].map((l) => l.state).filter((s) => !p.pending.has(s.userId)))))
        ),
        liveUsers: Effect.sync(() => partitions.reduce((n, p) => n + p.live.size, 0))
      }
    })
  )
