export * as EventId from "./EventId.js"
export * as UserEvent from "./UserEvent.js"
