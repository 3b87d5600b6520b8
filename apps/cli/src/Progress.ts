import type { LoadProgress } from "./Commands/Load.js"
import * as Report from "./Report.js"

export interface ProgressDisplay {
  readonly update: (progress: LoadProgress) => void
  /** Clears the bar so the summary that follows starts on a clean line. */
  readonly finish: () => void
}

const barWidth = 30
const terminalRedrawMillis = 100
const logLineMillis = 5000

/**
 * A bar redrawn in place when `output` is a terminal; otherwise a plain line
 * every few seconds, so piped logs stay readable.
 */
export const make = (output: NodeJS.WriteStream): ProgressDisplay => {
  const interactive = output.isTTY === true
  const every = interactive ? terminalRedrawMillis : logLineMillis
  let shownAt = 0
  return {
    update: ({ summary, bytesRead, totalBytes }) => {
      if (summary.elapsedMillis - shownAt < every) return
      shownAt = summary.elapsedMillis
      if (!interactive) {
        output.write(`${Report.progressLine(summary)}\n`)
        return
      }
      const fraction = totalBytes === 0 ? 1 : bytesRead / totalBytes
      output.cursorTo(0)
      output.clearLine(1)
      output.write(`${Report.progressBar(fraction, barWidth)} ${Report.progressLine(summary)}`)
    },
    finish: () => {
      if (!interactive) return
      output.cursorTo(0)
      output.clearLine(1)
    }
  }
}
