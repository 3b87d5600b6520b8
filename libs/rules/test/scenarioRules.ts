import * as fs from "node:fs"

/** The SCENARIOS.md rules, as a rule author writes them: the example file newcomers publish first. */
export const scenarioRules = fs.readFileSync(new URL("../../../examples/rules.yaml", import.meta.url), "utf8")
