import { Schema } from "effect"
import { type ExpectedRevision, StreamDeleted, WrongExpectedRevision } from "../EventStore.js"
import type { LocalAppend, StreamStatus } from "./LocalLog.js"
import type { EncodedEvent } from "./SqliteLog.js"

/** What the embedded database's writer thread is started with. */
export interface WriterConfig {
  readonly filename: string
  readonly synchronous: "FULL" | "NORMAL"
}

/**
 * One SQL text, run once per row of parameters: a batch of thousands of rows
 * sends (and the writer thread looks up) its text once.
 */
export interface Statement {
  readonly sql: string
  /** Without rows, `sql` runs once as it is, and may hold several statements (a schema). */
  readonly rows?: ReadonlyArray<ReadonlyArray<unknown>>
}

export type WriterRequest =
  | {
      readonly id: number
      readonly op: "append"
      readonly requests: ReadonlyArray<LocalAppend<EncodedEvent>>
      readonly created: number
    }
  | { readonly id: number; readonly op: "remove"; readonly stream: string; readonly expected: ExpectedRevision; readonly status: StreamStatus }
  | { readonly id: number; readonly op: "run"; readonly statements: ReadonlyArray<Statement>; readonly durable: boolean }
  | { readonly id: number; readonly op: "close" }

export type WriterReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly reason: string }

export type WriterStartup = { readonly ready: true } | { readonly ready: false; readonly reason: string }

/** Error classes do not survive a thread boundary: they cross it in their encoded form. */
export const AppendErrorWire = Schema.Union(WrongExpectedRevision, StreamDeleted)
