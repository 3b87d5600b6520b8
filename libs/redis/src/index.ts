export * as RedisClient from "./RedisClient.js"
