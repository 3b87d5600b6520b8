import { Schema } from "effect"
import { codec } from "./Versioned.js"

/** A whole, validated rule set as published; it applies to user events stored after it. */
export class RuleSetPublished extends Schema.TaggedClass<RuleSetPublished>()("RuleSetPublished", {
  version: Schema.Number,
  format: Schema.Literal("yaml", "json"),
  text: Schema.String,
  publishedAt: Schema.Number
}) {}

export const stream = "rules"

const stored = codec(RuleSetPublished, { RuleSetPublished })
export const encode = stored.encode
export const decode = stored.decode
