import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either } from "effect"
import { config } from "../src/EngineConfig.js"

const load = (env: Record<string, string>) =>
  Effect.either(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("EngineConfig", () => {
  it.effect("reads the idle time after which users are passivated, with a default", () =>
    Effect.gen(function* () {
      const set = yield* load({ NUDGE_PASSIVATE_AFTER: "90 seconds" })
      const unset = yield* load({})
      assert.strictEqual(Either.getOrThrow(set).actors.passivateAfterMs, 90_000)
      assert.strictEqual(Either.getOrThrow(unset).actors.passivateAfterMs, 600_000)
    })
  )

  it.effect("refuses an idle time under a second or one that is no duration, naming the variable", () =>
    Effect.gen(function* () {
      for (const value of ["10 millis", "soon"]) {
        const loaded = yield* load({ NUDGE_PASSIVATE_AFTER: value })
        assert.isTrue(Either.isLeft(loaded))
        assert.include(String(Either.isLeft(loaded) ? loaded.left : ""), "NUDGE_PASSIVATE_AFTER")
      }
    })
  )
})
