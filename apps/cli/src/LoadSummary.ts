import type { TrackStreamResponse } from "@nudge/proto"

/** Why one line was not stored. */
export interface Rejection {
  /** 1-based line number in the file; absent only if the engine names a message id that was not sent. */
  readonly line: number | undefined
  /** Absent when the line could not be read as a message. */
  readonly messageId: string | undefined
  readonly reason: string
}

/** The running tally of a load; the final one is what the command reports. */
export interface LoadSummary {
  /** Non-blank lines read. */
  readonly lines: number
  /** TrackStream calls made, one per batch that had something to send. */
  readonly calls: number
  readonly accepted: number
  readonly duplicates: number
  /** Rejected locally (unparseable lines) plus rejected by the engine. */
  readonly rejected: number
  /** The first few rejections only: a bad export can reject every line. */
  readonly rejections: ReadonlyArray<Rejection>
  readonly elapsedMillis: number
}

export const maxRejectionsKept = 10

export const empty: LoadSummary = {
  lines: 0,
  calls: 0,
  accepted: 0,
  duplicates: 0,
  rejected: 0,
  rejections: [],
  elapsedMillis: 0
}

/** What one batch contributed: its lines, the ones rejected before sending, and the engine's answer if a call was made. */
export interface BatchOutcome {
  readonly lines: number
  readonly localRejections: ReadonlyArray<Rejection>
  readonly response: TrackStreamResponse | undefined
  /** The line each sent message id came from: the engine names rejected messages by id only. */
  readonly lineOf: ReadonlyMap<string, number>
}

const inFileOrder = (rejections: Array<Rejection>): Array<Rejection> =>
  rejections.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))

export const addBatch = (summary: LoadSummary, batch: BatchOutcome, elapsedMillis: number): LoadSummary => {
  const engineRejections = (batch.response?.rejections ?? []).map((rejection) => ({
    line: batch.lineOf.get(rejection.messageId),
    messageId: rejection.messageId,
    reason: rejection.reason
  }))
  return {
    lines: summary.lines + batch.lines,
    calls: summary.calls + (batch.response === undefined ? 0 : 1),
    accepted: summary.accepted + (batch.response?.accepted ?? 0),
    duplicates: summary.duplicates + (batch.response?.duplicates ?? 0),
    rejected: summary.rejected + batch.localRejections.length + (batch.response?.rejected ?? 0),
    rejections: [...summary.rejections, ...inFileOrder([...batch.localRejections, ...engineRejections])].slice(
      0,
      maxRejectionsKept
    ),
    elapsedMillis
  }
}

/** Lines handled per second, whatever their outcome. */
export const rate = (summary: LoadSummary): number =>
  summary.elapsedMillis === 0 ? 0 : (summary.lines * 1000) / summary.elapsedMillis
