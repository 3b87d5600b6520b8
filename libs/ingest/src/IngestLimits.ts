import { Config, Duration } from "effect"

export interface IngestLimits {
  /** Largest encoded message accepted, in bytes (the analytics APIs' 32 KB). */
  readonly maxEventBytes: number
  /** Events claiming to happen further in the future than this are refused. */
  readonly maxFutureMs: number
  /** Most messages in one TrackStream call. */
  readonly maxStreamMessages: number
  /** How long a message id is remembered at least (never less than 24 h). */
  readonly dedupWindowMs: number
}

export const defaults: IngestLimits = {
  maxEventBytes: 32 * 1024,
  maxFutureMs: 60 * 60 * 1000,
  maxStreamMessages: 1_000_000,
  dedupWindowMs: 24 * 60 * 60 * 1000
}

const atLeastADay = (d: Duration.Duration) => Math.max(Duration.toMillis(d), defaults.dedupWindowMs)

export const config: Config.Config<IngestLimits> = Config.all({
  maxEventBytes: Config.integer("NUDGE_MAX_EVENT_BYTES").pipe(
    Config.validate({ message: "must be between 1 KiB and 1 MiB", validation: (n) => n >= 1024 && n <= 1024 * 1024 }),
    Config.withDefault(defaults.maxEventBytes)
  ),
  maxFutureMs: Config.duration("NUDGE_MAX_FUTURE").pipe(
    Config.map(Duration.toMillis),
    Config.withDefault(defaults.maxFutureMs)
  ),
  maxStreamMessages: Config.integer("NUDGE_MAX_STREAM_MESSAGES").pipe(
    Config.validate({ message: "must be positive", validation: (n) => n > 0 }),
    Config.withDefault(defaults.maxStreamMessages)
  ),
  dedupWindowMs: Config.duration("NUDGE_DEDUP_WINDOW").pipe(Config.map(atLeastADay), Config.withDefault(defaults.dedupWindowMs))
})
