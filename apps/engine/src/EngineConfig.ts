import { UserActors } from "@nudge/actors"
import { IngestLimits } from "@nudge/ingest"
import { Config, Duration, Option, type Redacted } from "effect"
import * as path from "node:path"

export interface EngineConfig {
  readonly grpcAddress: string
  readonly dataDir: string
  readonly eventStoreConnection: Option.Option<Redacted.Redacted<string>>
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  /** Namespace of every Redis key, so deployments sharing a Redis stay apart. */
  readonly redisPrefix: string
  readonly limits: IngestLimits.IngestLimits
  /** How long a shutdown waits for in-flight calls before cutting them. */
  readonly drainMs: number
  readonly actors: UserActors.ActorOptions
}

const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/

// Validation comes before the default so that an error names the variable.
const grpcAddress = Config.string("NUDGE_GRPC_ADDRESS").pipe(
  Config.validate({
    message: "expected host:port, such as 127.0.0.1:50051",
    validation: (s) => {
      const m = hostPort.exec(s)
      return m !== null && Number(m[2]) <= 65535
    }
  }),
  Config.withDefault("127.0.0.1:50051")
)

export const config: Config.Config<EngineConfig> = Config.all({
  grpcAddress,
  dataDir: Config.string("NUDGE_DATA_DIR").pipe(
    Config.validate({ message: "must not be empty", validation: (s) => s.trim().length > 0 }),
    Config.withDefault("./data"),
    Config.map((dir) => path.resolve(dir))
  ),
  eventStoreConnection: Config.option(Config.redacted("EVENTSTORE_CONNECTION_STRING")),
  redisUrl: Config.option(Config.redacted("REDIS_URL")),
  redisPrefix: Config.string("NUDGE_REDIS_PREFIX").pipe(
    Config.validate({ message: "must not be empty", validation: (s) => s.length > 0 }),
    Config.withDefault("nudge:")
  ),
  limits: IngestLimits.config,
  drainMs: Config.integer("NUDGE_DRAIN_MS").pipe(Config.withDefault(10_000)),
  actors: Config.all({
    maxLiveUsers: Config.integer("NUDGE_MAX_LIVE_USERS").pipe(
      Config.validate({ message: "must be positive", validation: (n) => n > 0 }),
      Config.withDefault(UserActors.defaults.maxLiveUsers)
    ),
    snapshotEvery: Config.integer("NUDGE_SNAPSHOT_EVERY").pipe(
      Config.validate({ message: "must be positive", validation: (n) => n > 0 }),
      Config.withDefault(UserActors.defaults.snapshotEvery)
    ),
    partitions: Config.integer("NUDGE_PARTITIONS").pipe(
      Config.validate({ message: "must be between 1 and 64", validation: (n) => n >= 1 && n <= 64 }),
      Config.withDefault(UserActors.defaults.partitions)
    ),
    passivateAfterMs: Config.duration("NUDGE_PASSIVATE_AFTER").pipe(
      Config.validate({ message: "must be at least 1 second", validation: (d) => Duration.toMillis(d) >= 1_000 }),
      Config.map(Duration.toMillis),
      Config.withDefault(UserActors.defaults.passivateAfterMs)
    )
  })
}).pipe(
  Config.validate({
    message:
      "EVENTSTORE_CONNECTION_STRING needs REDIS_URL too: EventStoreDB only ignores recent retries, so the dedup index lives in Redis",
    validation: (c) => Option.isNone(c.eventStoreConnection) || Option.isSome(c.redisUrl)
  })
)
