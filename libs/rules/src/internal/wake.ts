/**
 * Which events of one name can change a rule: those passing one of the `where` filters
 * through which the rule reads the name. An event passing none of them leaves everything
 * the rule reads as it was (the filters' marks are all it sees of the event), so deciding
 * the rule again would only repeat its last decision.
 */
import type { Columns } from "./columns.js"
import { passes } from "./columns.js"
import type { Spec } from "./layout.js"

/** The rule's filters on the name; `undefined` when every event of the name can change it. */
export type Wake = ReadonlyArray<Spec> | undefined

/** Whether the event at offset `j` of its name's columns can change the rule. */
export const wakes = (wake: Wake, columns: Columns, j: number): boolean => {
  if (wake === undefined) return true
  for (let i = 0; i < wake.length; i++) if (passes(columns, j, wake[i]!)) return true
  return false
}
