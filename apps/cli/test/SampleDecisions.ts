import type { Decision } from "@nudge/proto"

/** Decisions as the engine reports them, shared by the audit, report and end-to-end tests. */
export const fired: Decision = {
  kind: "fired",
  firingId: "f-1",
  userId: "u-1",
  ruleId: "welcome-back",
  ruleVersion: 2,
  reason: "",
  causeEventId: "e-7",
  at: { seconds: 1714557600, nanos: 250_000_000 },
  journey: "onboarding",
  experiment: "copy-test",
  variant: "B",
  explanationJson: `{"all":[{"event":"Signed Up","held":true,"by":["e-7"]}]}`,
  position: "12"
}

export const suppressed: Decision = {
  kind: "suppressed",
  firingId: "f-2",
  userId: "u-1",
  ruleId: "welcome-back",
  ruleVersion: 2,
  reason: "cooldown",
  causeEventId: "e-9",
  at: { seconds: 1714561200, nanos: 0 },
  journey: "",
  experiment: "",
  variant: "",
  explanationJson: "{}",
  position: "15"
}

export const otherUser: Decision = { ...fired, firingId: "f-3", userId: "u-2", position: "16" }

export const all: ReadonlyArray<Decision> = [fired, suppressed, otherUser]
