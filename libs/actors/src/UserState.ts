import { RulesState } from "@nudge/rules"

/** A firing the actor may still have to retract when a late event shows it was wrong. */
export interface RecentFiring {
  readonly firingId: string
  readonly ruleId: string
  readonly ruleVersion: number
  readonly at: number
}

/**
 * Everything one user's decisions depend on, and the point in both of the
 * user's streams it reflects. Plain JSON, so it is its own snapshot.
 */
export interface UserState {
  readonly userId: string
  readonly rules: RulesState.RulesState
  /** Consent per category, as last changed; absent means never given. */
  readonly consent: Readonly<Record<string, boolean>>
  /** Event times of this user's firings, all rules, as far back as the longest per-user cap. */
  readonly firedAt: ReadonlyArray<number>
  /** Firings still open to retraction by late events, oldest first. */
  readonly recent: ReadonlyArray<RecentFiring>
  /** The last `user-{userId}` revision folded in; -1 when none. */
  readonly userRevision: number
  /** The last `trigger-{userId}` revision this state has seen; -1 when none. */
  readonly triggerRevision: number
}

export const empty = (userId: string): UserState => ({
  userId,
  rules: RulesState.make(),
  consent: {},
  firedAt: [],
  recent: [],
  userRevision: -1,
  triggerRevision: -1
})
