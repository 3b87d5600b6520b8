export * from "./generated/nudge/v1/events.js"
export * from "./generated/nudge/v1/ingest.js"
export { Struct } from "./generated/google/protobuf/struct.js"
export { Timestamp } from "./generated/google/protobuf/timestamp.js"
