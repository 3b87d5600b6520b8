import { status as GrpcStatus } from "@grpc/grpc-js"
import { Predicate, Schema } from "effect"

/** The command line does not describe a valid invocation. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

/** A local file the command needs cannot be read. */
export class InputError extends Schema.TaggedError<InputError>()("InputError", {
  path: Schema.String,
  reason: Schema.String
}) {
  static fromCause(path: string, cause: unknown): InputError {
    return new InputError({ path, reason: cause instanceof Error ? cause.message : String(cause) })
  }
}

/** A gRPC call ended with a non-OK status. */
export class RpcError extends Schema.TaggedError<RpcError>()("RpcError", {
  status: Schema.String,
  details: Schema.String
}) {
  /** grpc-js reports call failures as errors carrying `code` and `details`; anything else is a local fault. */
  static fromCause(cause: unknown): RpcError {
    if (Predicate.hasProperty(cause, "code") && typeof cause.code === "number") {
      const details = Predicate.hasProperty(cause, "details") ? String(cause.details) : ""
      return new RpcError({ status: GrpcStatus[cause.code] ?? `${cause.code}`, details })
    }
    return new RpcError({ status: "UNKNOWN", details: String(cause) })
  }
}

export type CliError = UsageError | InputError | RpcError
