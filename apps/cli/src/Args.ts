import { RuleFormat } from "@nudge/proto"
import { Data, Either } from "effect"
import { extname } from "node:path"
import { parseArgs } from "node:util"
import { UsageError } from "./CliError.js"
import type { WatchInput } from "./Commands/Audit.js"
import type { ConsentInput, IdentifyInput, TrackInput } from "./Commands/Ingest.js"
import type { BacktestInput, RuleFile } from "./Commands/Rules.js"
import type { TailInput } from "./Commands/Tail.js"

interface Target {
  /** The engine's gRPC address, host:port. */
  readonly address: string
}

/** A command line understood: which command to run, with what. */
export type Invocation = Data.TaggedEnum<{
  Help: {}
  Track: Target & TrackInput
  Identify: Target & IdentifyInput
  Consent: Target & ConsentInput
  Load: Target & { readonly file: string; readonly batchSize: number }
  Tail: Target & TailInput
  PublishRules: Target & RuleFile
  /** `text`: print the rule set as published rather than a table of its rules. */
  ListRules: Target & { readonly text: boolean }
  Backtest: Target & BacktestInput
  ListFirings: Target & { readonly userId: string }
  Explain: Target & { readonly firingId: string }
  Watch: Target & WatchInput
}>

export const Invocation = Data.taggedEnum<Invocation>()

export const defaultAddress = "127.0.0.1:50051"

export const defaultBatchSize = 1000

export const usage = `Usage: nudge <command> [options]

Commands:
  track          --user U --event NAME [--prop k=v ...] [--message-id ID] [--at ISO]
  identify       --user U [--trait k=v ...] [--message-id ID] [--at ISO]
  consent        --user U --category C (--granted | --revoked) [--message-id ID] [--at ISO]
  load           FILE.ndjson [--batch ${defaultBatchSize}]
  tail           [--from-start] [--after POSITION] [--prefix STREAM_PREFIX ...]
  rules publish  RULES_FILE
  rules list     [--text]
  backtest       RULES_FILE [--from TIME] [--to TIME] [--sample N]
  firings        --user U
  explain        FIRING_ID
  watch          [--user U] [--after POSITION]

Options:
  --address host:port  the engine (default: $NUDGE_GRPC_ADDRESS, else ${defaultAddress})
  -h, --help           show this help

--prop and --trait values are read as JSON when they are valid JSON
(42, true, "42", {"plan":"pro"}) and as plain strings otherwise.
A message id is generated when --message-id is absent.
A RULES_FILE is JSON or YAML as its extension says (.json, .yaml, .yml);
rules list --text prints the rule set in effect as it was published.
backtest runs the file's rules over stored events without firing anything;
TIME is an event time, an ISO date or epoch milliseconds.
tail and watch follow until Ctrl-C.`

const options = {
  address: { type: "string" },
  help: { type: "boolean", short: "h" },
  user: { type: "string" },
  event: { type: "string" },
  prop: { type: "string", multiple: true },
  trait: { type: "string", multiple: true },
  category: { type: "string" },
  granted: { type: "boolean" },
  revoked: { type: "boolean" },
  "message-id": { type: "string" },
  at: { type: "string" },
  batch: { type: "string" },
  "from-start": { type: "boolean" },
  after: { type: "string" },
  prefix: { type: "string", multiple: true },
  text: { type: "boolean" },
  from: { type: "string" },
  to: { type: "string" },
  sample: { type: "string" }
} as const

type Option = keyof typeof options

const tokenize = (argv: ReadonlyArray<string>) =>
  Either.try({
    try: () => parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }),
    catch: (error) => new UsageError({ message: (error as Error).message })
  })

type Values = Either.Either.Right<ReturnType<typeof tokenize>>["values"]

const fail = (message: string) => Either.left(new UsageError({ message }))

const required = (value: string | undefined, flag: string) =>
  value === undefined || value === "" ? fail(`${flag} is required`) : Either.right(value)

/** A flag value is JSON when it parses as JSON, so `n=42` is a number and `n="42"` the string. */
export const parseValue = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** `k=v` pairs into an object; a key given twice keeps its last value, as a shell user would expect. */
export const parseAssignments = (
  flag: string,
  assignments: ReadonlyArray<string> | undefined
): Either.Either<Record<string, unknown>, UsageError> => {
  const result: Record<string, unknown> = {}
  for (const assignment of assignments ?? []) {
    const separator = assignment.indexOf("=")
    if (separator <= 0) return fail(`${flag} expects key=value, got "${assignment}"`)
    result[assignment.slice(0, separator)] = parseValue(assignment.slice(separator + 1))
  }
  return Either.right(result)
}

const parseInstant = (text: string | undefined): Either.Either<Date | undefined, UsageError> => {
  if (text === undefined) return Either.right(undefined)
  const date = new Date(text)
  return Number.isNaN(date.getTime()) ? fail(`--at expects an ISO date, got "${text}"`) : Either.right(date)
}

/** Checked here so a typo is a usage error, yet sent as written: the engine reads both spellings itself. */
const parseTimeBound = (flag: string, text: string | undefined): Either.Either<string | undefined, UsageError> => {
  if (text === undefined || /^\d+$/.test(text) || !Number.isNaN(Date.parse(text))) return Either.right(text)
  return fail(`${flag} expects an ISO date or epoch milliseconds, got "${text}"`)
}

const parsePositiveInteger = (flag: string, text: string): Either.Either<number, UsageError> =>
  /^[1-9]\d*$/.test(text) ? Either.right(Number(text)) : fail(`${flag} expects a positive integer, got "${text}"`)

const ruleFormats: Record<string, RuleFormat> = {
  ".json": RuleFormat.RULE_FORMAT_JSON,
  ".yaml": RuleFormat.RULE_FORMAT_YAML,
  ".yml": RuleFormat.RULE_FORMAT_YAML
}

/** The extension names the syntax, so a JSON file is never read by the YAML parser's looser rules. */
const parseRuleFile = (file: string): Either.Either<RuleFile, UsageError> => {
  const extension = extname(file).toLowerCase()
  return Object.hasOwn(ruleFormats, extension)
    ? Either.right({ file, format: ruleFormats[extension]! })
    : fail(`rule files end in .json, .yaml or .yml, got "${file}"`)
}

const envelope = (values: Values) =>
  Either.map(parseInstant(values.at), (occurredAt) => ({ messageId: values["message-id"], occurredAt }))

interface CommandSpec {
  readonly options: ReadonlyArray<Option>
  readonly operands: number
  readonly build: (values: Values, operands: ReadonlyArray<string>, target: Target) => Either.Either<Invocation, UsageError>
}

const envelopeOptions: ReadonlyArray<Option> = ["user", "message-id", "at"]

const commands: Record<string, CommandSpec> = {
  track: {
    options: [...envelopeOptions, "event", "prop"],
    operands: 0,
    build: (values, _, target) =>
      Either.gen(function* () {
        return Invocation.Track({
          ...target,
          ...(yield* envelope(values)),
          userId: yield* required(values.user, "--user"),
          event: yield* required(values.event, "--event"),
          properties: yield* parseAssignments("--prop", values.prop)
        })
      })
  },
  identify: {
    options: [...envelopeOptions, "trait"],
    operands: 0,
    build: (values, _, target) =>
      Either.gen(function* () {
        return Invocation.Identify({
          ...target,
          ...(yield* envelope(values)),
          userId: yield* required(values.user, "--user"),
          traits: yield* parseAssignments("--trait", values.trait)
        })
      })
  },
  consent: {
    options: [...envelopeOptions, "category", "granted", "revoked"],
    operands: 0,
    build: (values, _, target) =>
      Either.gen(function* () {
        if (values.granted === values.revoked) return yield* fail("exactly one of --granted and --revoked is required")
        return Invocation.Consent({
          ...target,
          ...(yield* envelope(values)),
          userId: yield* required(values.user, "--user"),
          category: yield* required(values.category, "--category"),
          granted: values.granted === true
        })
      })
  },
  load: {
    options: ["batch"],
    operands: 1,
    build: (values, [file], target) =>
      Either.map(
        values.batch === undefined ? Either.right(defaultBatchSize) : parsePositiveInteger("--batch", values.batch),
        (batchSize) => Invocation.Load({ ...target, file: file!, batchSize })
      )
  },
  tail: {
    options: ["from-start", "after", "prefix"],
    operands: 0,
    build: (values, _, target) =>
      Either.right(Invocation.Tail({
        ...target,
        fromStart: values["from-start"] === true,
        afterPosition: values.after,
        streamPrefixes: values.prefix ?? []
      }))
  },
  "rules publish": {
    options: [],
    operands: 1,
    build: (_, [file], target) => Either.map(parseRuleFile(file!), (ruleFile) => Invocation.PublishRules({ ...target, ...ruleFile }))
  },
  "rules list": {
    options: ["text"],
    operands: 0,
    build: (values, _, target) => Either.right(Invocation.ListRules({ ...target, text: values.text === true }))
  },
  backtest: {
    options: ["from", "to", "sample"],
    operands: 1,
    build: (values, [file], target) =>
      Either.gen(function* () {
        return Invocation.Backtest({
          ...target,
          ...(yield* parseRuleFile(file!)),
          from: yield* parseTimeBound("--from", values.from),
          to: yield* parseTimeBound("--to", values.to),
          sampleSize: values.sample === undefined ? undefined : yield* parsePositiveInteger("--sample", values.sample)
        })
      })
  },
  firings: {
    options: ["user"],
    operands: 0,
    build: (values, _, target) =>
      Either.map(required(values.user, "--user"), (userId) => Invocation.ListFirings({ ...target, userId }))
  },
  explain: {
    options: [],
    operands: 1,
    build: (_, [firingId], target) => Either.right(Invocation.Explain({ ...target, firingId: firingId! }))
  },
  watch: {
    options: ["user", "after"],
    operands: 0,
    build: (values, _, target) =>
      Either.right(Invocation.Watch({ ...target, userId: values.user, afterPosition: values.after }))
  }
}

/** A command is one word, or a group and one of its subcommands (`rules publish`); the words after it are its operands. */
const resolve = (positionals: ReadonlyArray<string>) => {
  const [first, second] = positionals
  if (first === undefined) return fail("a command is required")
  if (Object.hasOwn(commands, first)) {
    return Either.right({ name: first, spec: commands[first]!, operands: positionals.slice(1) })
  }
  const subcommands = Object.keys(commands).flatMap((name) => name.startsWith(`${first} `) ? [name.slice(first.length + 1)] : [])
  if (subcommands.length === 0) return fail(`unknown command "${first}"`)
  if (second === undefined || !subcommands.includes(second)) {
    return fail(`${first} expects one of ${subcommands.join(", ")}${second === undefined ? "" : `, got "${second}"`}`)
  }
  const name = `${first} ${second}`
  return Either.right({ name, spec: commands[name]!, operands: positionals.slice(2) })
}

const globalOptions: ReadonlyArray<Option> = ["address", "help"]

/** Reads a command line; `address` is where to connect unless `--address` says otherwise. */
export const parse = (argv: ReadonlyArray<string>, address: string): Either.Either<Invocation, UsageError> =>
  Either.gen(function* () {
    const { positionals, values } = yield* tokenize(argv)
    if (values.help === true) return Invocation.Help()
    const { name, operands, spec } = yield* resolve(positionals)
    const foreign = (Object.keys(values) as Array<Option>).find(
      (option) => !globalOptions.includes(option) && !spec.options.includes(option)
    )
    if (foreign !== undefined) return yield* fail(`${name} does not take --${foreign}`)
    if (operands.length !== spec.operands) {
      return yield* fail(`${name} takes ${spec.operands === 0 ? "no arguments" : `${spec.operands} argument`}`)
    }
    return yield* spec.build(values, operands, { address: values.address ?? address })
  })
