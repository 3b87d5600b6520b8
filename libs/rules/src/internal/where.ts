/**
 * An event's `where` predicates compiled into one test over its stored properties; the
 * single-key case (the common one) reads the key directly instead of walking a path.
 */
import type { Predicates } from "../Predicate.js"
import { read, toTest } from "../Predicate.js"

export type PropertiesTest = (properties: Readonly<Record<string, unknown>>) => boolean

export const compileWhere = (where: Predicates): PropertiesTest => {
  const checks = Object.entries(where).map(([path, predicate]) => ({ path: path.split("."), test: toTest(predicate) }))
  if (checks.length === 1) {
    const { path, test } = checks[0]!
    if (path.length === 1) {
      const key = path[0]!
      return (properties) => test(properties[key])
    }
    return (properties) => test(read(properties, path))
  }
  return (properties) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i]!.test(read(properties, checks[i]!.path))) return false
    return true
  }
}
