import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root } from "@nudge/engine/EngineProcess"

const file = path.join(root, "docs/benchmarks.md")

/** The load average at the start: the machine is shared, and other work slows every figure but the per-event CPU. */
const startLoad = os.loadavg()[0]!.toFixed(1)

const machine = () =>
  `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; 1-minute load average ${startLoad} when the run started`

/** A count or rate as the tables print it: whole, with thousands separators. */
export const format = (n: number) => Math.round(n).toLocaleString("en-US")

/** Replaces (or appends) one `## title` section of docs/benchmarks.md, stamped with the machine and date. */
export const writeSection = (title: string, body: string) => {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n\nFigures are measured on the machine named in each section; compare ratios measured in one run, not absolute numbers across machines.\n"
  const section = `## ${title}\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine()}.\n\n${body}\n`
  const pattern = new RegExp(`## ${title}\\n[\\s\\S]*?(?=\\n## |$)`)
  const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}`
  fs.writeFileSync(file, next)
}
