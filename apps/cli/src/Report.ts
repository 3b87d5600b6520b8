import type { StoredEvent, TrackResponse } from "@nudge/proto"
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
