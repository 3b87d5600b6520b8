export * from "./EventStore.js"
export * as MemoryEventStore from "./MemoryEventStore.js"
export * as SqliteDatabase from "./SqliteDatabase.js"
export * as SqliteEventStore from "./SqliteEventStore.js"
