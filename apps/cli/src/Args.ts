import { Data, Either } from "effect"
import { parseArgs } from "node:util"
import { UsageError } from "./CliError.js"
import type { ConsentInput, IdentifyInput, TrackInput } from "./Commands/Ingest.js"
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
}>

export const Invocation = Data.taggedEnum<Invocation>()

export const defaultAddress = "127.0.0.1:50051"

export const defaultBatchSize = 1000

export const usage = `Usage: nudge <command> [options]

Commands:
  track     --user U --event NAME [--prop k=v ...] [--message-id ID] [--at ISO]
  identify  --user U [--trait k=v ...] [--message-id ID] [--at ISO]
  consent   --user U --category C (--granted | --revoked) [--message-id ID] [--at ISO]
  load      FILE.ndjson [--batch ${defaultBatchSize}]
  tail      [--from-start] [--after POSITION] [--prefix STREAM_PREFIX ...]

Options:
  --address host:port  the engine (default: $NUDGE_GRPC_ADDRESS, else ${defaultAddress})
  -h, --help           show this help

--prop and --trait values are read as JSON when they are valid JSON
(42, true, "42", {"plan":"pro"}) and as plain strings otherwise.
A message id is generated when --message-id is absent.`

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
  prefix: { type: "string", multiple: true }
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

const parseBatchSize = (text: string | undefined): Either.Either<number, UsageError> => {
  if (text === undefined) return Either.right(defaultBatchSize)
  return /^[1-9]\d*$/.test(text) ? Either.right(Number(text)) : fail(`--batch expects a positive integer, got "${text}"`)
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
      Either.map(parseBatchSize(values.batch), (batchSize) => Invocation.Load({ ...target, file: file!, batchSize }))
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
  }
}

const globalOptions: ReadonlyArray<Option> = ["address", "help"]

/** Reads a command line; `address` is where to connect unless `--address` says otherwise. */
export const parse = (argv: ReadonlyArray<string>, address: string): Either.Either<Invocation, UsageError> =>
  Either.gen(function* () {
    const { positionals, values } = yield* tokenize(argv)
    if (values.help === true) return Invocation.Help()
    const [name, ...operands] = positionals
    if (name === undefined) return yield* fail("a command is required")
    if (!Object.hasOwn(commands, name)) return yield* fail(`unknown command "${name}"`)
    const spec = commands[name]!
    const foreign = (Object.keys(values) as Array<Option>).find(
      (option) => !globalOptions.includes(option) && !spec.options.includes(option)
    )
    if (foreign !== undefined) return yield* fail(`${name} does not take --${foreign}`)
    if (operands.length !== spec.operands) {
      return yield* fail(`${name} takes ${spec.operands === 0 ? "no arguments" : `${spec.operands} argument`}`)
    }
    return yield* spec.build(values, operands, { address: values.address ?? address })
  })
