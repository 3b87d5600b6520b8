import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Console, Effect, Stream } from "effect"
import * as Args from "./Args.js"
import type { CliError } from "./CliError.js"
import * as Audit from "./Commands/Audit.js"
import * as Ingest from "./Commands/Ingest.js"
import * as Load from "./Commands/Load.js"
import * as Rules from "./Commands/Rules.js"
import * as Tail from "./Commands/Tail.js"
import * as Progress from "./Progress.js"
import * as Report from "./Report.js"

const run = Args.Invocation.$match({
  Help: () => Console.log(Args.usage),
  Track: (input) => Effect.flatMap(Ingest.track(input.address, input), (r) => Console.log(Report.acknowledgement(r))),
  Identify: (input) =>
    Effect.flatMap(Ingest.identify(input.address, input), (r) => Console.log(Report.acknowledgement(r))),
  Consent: (input) =>
    Effect.flatMap(Ingest.setConsent(input.address, input), (r) => Console.log(Report.acknowledgement(r))),
  Load: ({ address, batchSize, file }) => {
    const progress = Progress.make(process.stderr)
    return Load.load(address, file, { batchSize, onProgress: progress.update }).pipe(
      Effect.ensuring(Effect.sync(progress.finish)),
      Effect.flatMap((summary) => Console.log(Report.loadSummary(summary)))
    )
  },
  Tail: (input) => Stream.runForEach(Tail.tail(input.address, input), (e) => Console.log(Report.storedEvent(e))),
  PublishRules: (input) => Effect.flatMap(Rules.publish(input.address, input), (r) => Console.log(Report.publication(r))),
  ListRules: ({ address, text }) =>
    Effect.flatMap(Rules.list(address), (r) =>
      // Verbatim, so the output can be saved and published again as it is.
      text ? Effect.sync(() => process.stdout.write(r.text)) : Console.log(Report.ruleSet(r))),
  Backtest: (input) => Effect.flatMap(Rules.backtest(input.address, input), (r) => Console.log(Report.backtest(r))),
  ListFirings: ({ address, userId }) =>
    Effect.flatMap(Audit.firings(address, userId), (decisions) =>
      Effect.forEach(decisions, (d) => Console.log(Report.decision(d)), { discard: true })),
  Explain: ({ address, firingId }) => Effect.flatMap(Audit.explain(address, firingId), (d) => Console.log(Report.explanation(d))),
  Watch: (input) => Stream.runForEach(Audit.watch(input.address, input), (d) => Console.log(Report.decision(d)))
})

/** The one place a failure becomes what the user reads and the exit status scripts see. */
const report = (error: CliError): Effect.Effect<number> => {
  switch (error._tag) {
    case "UsageError":
      return Effect.as(Console.error(`error: ${error.message}\n\n${Args.usage}`), 2)
    case "InputError":
      return Effect.as(Console.error(`error: cannot read ${error.path}: ${error.reason}`), 1)
    case "RpcError":
      return Effect.as(Console.error(Report.rpcError(error)), 1)
  }
}

const main = Effect.gen(function* () {
  const address = yield* Config.string("NUDGE_GRPC_ADDRESS").pipe(Config.withDefault(Args.defaultAddress), Effect.orDie)
  const invocation = yield* Args.parse(process.argv.slice(2), address)
  yield* run(invocation)
}).pipe(
  Effect.as(0),
  Effect.catchAll(report),
  // An exit code rather than process.exit, so stdout is flushed before the process ends.
  Effect.flatMap((code) => Effect.sync(() => (process.exitCode = code)))
)

NodeRuntime.runMain(main)
