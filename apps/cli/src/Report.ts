import type { BacktestResponse, Decision, ListRulesResponse, PublishRulesResponse, StoredEvent, TrackResponse } from "@nudge/proto"
import type { RpcError } from "./CliError.js"
import * as Timestamps from "./internal/Timestamps.js"
import * as LoadSummary from "./LoadSummary.js"

/** One line per acknowledgement, key=value so scripts can pick fields out. */
export const acknowledgement = (response: TrackResponse): string =>
  `event_id=${response.eventId} position=${response.position} duplicate=${response.duplicate}`

/** One line per event: position, stream, type, then the JSON payload, which the engine stores compact. */
export const storedEvent = (event: StoredEvent): string =>
  `${event.position} ${event.stream} ${event.type} ${event.dataJson}`

const seconds = (millis: number): string => `${(millis / 1000).toFixed(1)}s`

const rejection = ({ line, messageId, reason }: LoadSummary.Rejection): string => {
  const where = line === undefined
    ? `message ${messageId}`
    : messageId === undefined
    ? `line ${line}`
    : `line ${line} (${messageId})`
  return `  ${where}: ${reason}`
}

export const loadSummary = (summary: LoadSummary.LoadSummary): string => {
  const unlisted = summary.rejected - summary.rejections.length
  return [
    `accepted    ${summary.accepted}`,
    `duplicates  ${summary.duplicates}`,
    `rejected    ${summary.rejected}`,
    ...summary.rejections.map(rejection),
    ...(unlisted > 0 ? [`  ... and ${unlisted} more`] : []),
    `${summary.lines} lines in ${summary.calls} calls, ${seconds(summary.elapsedMillis)}, ${
      Math.round(LoadSummary.rate(summary))
    } events/s`
  ].join("\n")
}

/** A status line without bar, for logs: stderr that is not a terminal. */
export const progressLine = (summary: LoadSummary.LoadSummary): string =>
  `loaded ${summary.lines} lines: ${summary.accepted} accepted, ${summary.duplicates} duplicates, ${summary.rejected} rejected (${
    Math.round(LoadSummary.rate(summary))
  } events/s)`

/** A bar of `width` cells for the share of the file read so far. */
export const progressBar = (fraction: number, width: number): string => {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width)
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(fraction * 100).toString().padStart(3)}%`
}

/**
 * A failed call as the user reads it. The engine lists every problem of a
 * refused request (each rule set issue with its path) on a line of its own;
 * each keeps its own line here, indented under the status.
 */
export const rpcError = ({ details, status }: RpcError): string => {
  const lines = details.split("\n")
  return lines.length === 1
    ? `error: ${status}: ${details}`
    : [`error: ${status}:`, ...lines.map((line) => `  ${line}`)].join("\n")
}

/** Left-aligned columns two spaces apart. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]!.length))) ?? []
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n")
}

/** An optional field the engine sends as "", shown so the column is never blank. */
const orDash = (value: string): string => (value === "" ? "-" : value)

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? "" : "s"}`

export const publication = (response: PublishRulesResponse): string =>
  `published version ${response.version} (${plural(response.ruleCount, "rule")}) at position ${response.position}`

export const ruleSet = (response: ListRulesResponse): string =>
  response.version === 0
    ? "no rule set published yet"
    : [
      `rule set version ${response.version}`,
      table([
        ["ID", "VERSION", "PRIORITY", "GROUP", "JOURNEY", "CONSENT"],
        ...response.rules.map((rule) => [
          rule.id,
          `${rule.version}`,
          `${rule.priority}`,
          orDash(rule.group),
          orDash(rule.journey),
          orDash(rule.consent)
        ])
      ])
    ].join("\n")

export const backtest = (response: BacktestResponse): string =>
  [
    `scanned ${plural(response.users, "user")}, ${plural(response.events, "event")}`,
    table([
      ["RULE", "FIRINGS", "SUPPRESSED BY COOLDOWN", "SAMPLE USERS"],
      ...response.rules.map((rule) => [
        rule.ruleId,
        `${rule.firings}`,
        `${rule.suppressedByCooldown}`,
        orDash(rule.sampleUsers.join(" "))
      ])
    ])
  ].join("\n")

const eventTime = (decision: Decision): string =>
  decision.at === undefined ? "-" : Timestamps.toDate(decision.at).toISOString()

const whenSet = (key: string, value: string): ReadonlyArray<string> => (value === "" ? [] : [`${key}=${value}`])

/**
 * One line per decision, kind and rule first; the rest key=value, present
 * only when set, so scripts can pick fields out. The position is what
 * `watch --after` resumes from.
 */
export const decision = (decision: Decision): string =>
  [
    decision.kind,
    `${decision.ruleId}@${decision.ruleVersion}`,
    ...whenSet("reason", decision.reason),
    `at=${eventTime(decision)}`,
    `firing=${decision.firingId}`,
    ...whenSet("journey", decision.journey),
    ...whenSet("experiment", decision.experiment),
    ...whenSet("variant", decision.variant),
    `position=${decision.position}`
  ].join(" ")

/** The engine stores the explanation compact; indented, a reader can follow which condition held by which event. */
const prettyJson = (json: string): string => {
  try {
    return JSON.stringify(JSON.parse(json), null, 2)
  } catch {
    return json
  }
}

export const explanation = (decision: Decision): string => {
  const fields: ReadonlyArray<readonly [string, string]> = [
    ["kind", decision.kind],
    ["firing", decision.firingId],
    ["user", decision.userId],
    ["rule", `${decision.ruleId}@${decision.ruleVersion}`],
    ["reason", decision.reason],
    ["cause event", decision.causeEventId],
    ["at", eventTime(decision)],
    ["journey", decision.journey],
    ["experiment", decision.experiment],
    ["variant", decision.variant],
    ["position", decision.position]
  ]
  return [
    table(fields.filter(([, value]) => value !== "")),
    "explanation:",
    prettyJson(decision.explanationJson)
  ].join("\n")
}
