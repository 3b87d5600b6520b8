/**
 * A request to decide a rule again at a future event time: an absence deadline, or any
 * moment at which a rule would become true by time passing alone. Plain data, so the
 * actor can persist it (`TimerScheduled`) and hand it back after a restart.
 */
export interface TimerRequest {
  readonly ruleId: string
  readonly ruleVersion: number
  readonly dueAt: number
  /** The event whose evaluation asked for the timer (for an absence: its anchor). */
  readonly anchorEventId: string
}
