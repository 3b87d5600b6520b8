import * as fs from "node:fs"

const ticksPerSecond = 100

/** CPU seconds (user + system, every thread) a process has used so far, from /proc; NaN where there is none. */
export const cpuSeconds = (pid: number | undefined) => {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
  } catch {
    return NaN
  }
}
