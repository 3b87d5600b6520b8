import { createHash } from "node:crypto"

/**
 * Deterministic assignment: the same user always gets the same arm of an
 * experiment, without storing anything, and arms split 50/50 across users.
 * The control arm is the holdout that receives nothing.
 */
export const variantOf = (experiment: string, userId: string): "control" | "treatment" =>
  createHash("sha256").update(`${experiment}\u0000${userId}`).digest().readUInt32BE(0) % 100 < 50 ? "control" : "treatment"
