import { Schema } from "effect"

export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  filename: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot open ${this.filename}: ${this.reason}`
  }
}
