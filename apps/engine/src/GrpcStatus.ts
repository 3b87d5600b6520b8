import { status } from "@grpc/grpc-js"
import type { StoreUnavailable } from "@nudge/event-store"
import type { InvalidArgument, LimitExceeded, UserErased } from "@nudge/ingest"
import type { RedisClient } from "@nudge/redis"

export type EngineError = InvalidArgument | LimitExceeded | UserErased | StoreUnavailable | RedisClient.RedisUnavailable

/** The one map from domain errors to gRPC status codes. */
export const codeOf = (error: EngineError): status => {
  switch (error._tag) {
    case "InvalidArgument":
      return status.INVALID_ARGUMENT
    case "LimitExceeded":
      return status.RESOURCE_EXHAUSTED
    case "UserErased":
      return status.FAILED_PRECONDITION
    case "StoreUnavailable":
    case "RedisUnavailable":
      return status.UNAVAILABLE
  }
}
