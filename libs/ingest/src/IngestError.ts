import { Schema } from "effect"

/** A request field is missing or wrong; `field` uses the protobuf name (snake_case). */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return this.field === "" ? this.reason : `${this.field}: ${this.reason}`
  }
}

/** A message or a batch is over a configured limit. */
export class LimitExceeded extends Schema.TaggedError<LimitExceeded>()("LimitExceeded", {
  limit: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** The user's streams were erased for good: nothing more is accepted for that id. */
export class UserErased extends Schema.TaggedError<UserErased>()("UserErased", {
  userId: Schema.String
}) {
  override get message() {
    return `user ${this.userId} was erased; events for this id are refused`
  }
}
