export * as RedisState from "./RedisState.js"
export * as SqliteState from "./SqliteState.js"
export * from "./StateStore.js"
export * from "./TimerStore.js"
