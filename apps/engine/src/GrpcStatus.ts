import { status } from "@grpc/grpc-js"
import type { StoreUnavailable, StreamDeleted, WrongExpectedRevision } from "@nudge/event-store"
import type { InvalidArgument, LimitExceeded, UserErased } from "@nudge/ingest"
import type { RedisClient } from "@nudge/redis"
import type { RuleSet } from "@nudge/rules"
import type { StateUnavailable } from "@nudge/state"
import { Schema } from "effect"

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  what: Schema.String
}) {
  override get message() {
    return `${this.what} not found`
  }
}

/** The rule set in force was published before validation tightened, and no longer passes it. */
export class StaleRuleSet extends Schema.TaggedError<StaleRuleSet>()("StaleRuleSet", {
  version: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `rule set version ${this.version} no longer passes validation (${this.reason}); the router passes over it: publish a corrected set`
  }
}

export type EngineError =
  | InvalidArgument
  | LimitExceeded
  | UserErased
  | NotFound
  | StaleRuleSet
  | RuleSet.RuleSetError
  | WrongExpectedRevision
  | StreamDeleted
  | StoreUnavailable
  | StateUnavailable
  | RedisClient.RedisUnavailable

/** The one map from domain errors to gRPC status codes. */
export const codeOf = (error: EngineError): status => {
  switch (error._tag) {
    case "InvalidArgument":
    case "RuleSetError":
      return status.INVALID_ARGUMENT
    case "LimitExceeded":
      return status.RESOURCE_EXHAUSTED
    case "UserErased":
    case "StreamDeleted":
    case "StaleRuleSet":
      return status.FAILED_PRECONDITION
    case "NotFound":
      return status.NOT_FOUND
    case "WrongExpectedRevision":
      return status.ABORTED
    case "StoreUnavailable":
    case "StateUnavailable":
    case "RedisUnavailable":
      return status.UNAVAILABLE
  }
}
