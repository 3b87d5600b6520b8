import { UserActors } from "@nudge/actors"
import { IngestLimits } from "@nudge/ingest"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Engine from "../../src/Engine.js"
import type { EngineConfig } from "../../src/EngineConfig.js"

export const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "nudge-engine-"))

export const config = (overrides: Partial<EngineConfig> = {}): EngineConfig => ({
  grpcAddress: "127.0.0.1:0",
  dataDir: tempDir(),
  eventStoreConnection: Option.none(),
  redisUrl: Option.none(),
  redisPrefix: `nudge-test-${Math.random().toString(36).slice(2)}:`,
  limits: IngestLimits.defaults,
  drainMs: 2000,
  actors: UserActors.defaults,
  ...overrides
})

/** An engine in this process on a free port, for the scope. */
export const start = (c: EngineConfig) => Engine.run(c).pipe(Effect.map(({ port }) => ({ port, config: c })))
