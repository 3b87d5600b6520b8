/**
 * What the end-to-end bench sends and publishes: two probe rules (one for the latency phase,
 * one for the throughput phase's end markers), 100 generated rules over 20 event names, and
 * pre-encoded TrackRequest buffers with the stored event id of each message, so a firing's
 * `causeEventId` leads back to the Track call that caused it.
 */
import { EventId } from "@nudge/domain"
import { TrackRequest } from "@nudge/proto"

/** Fires on every "Bench Fire" event of a user that had none in the last minute. */
export const latencyRule = "e2e-latency"
export const latencyEvent = "Bench Fire"
/** Fires on the one marker event each throughput stream sends after its share of the load. */
export const markerRule = "e2e-marker"
export const markerEvent = "Bench Marker"

export const eventNames = [
  "Viewed Page",
  "Viewed Pricing",
  "Viewed Feature",
  "Used Feature",
  "Searched",
  "Added To Cart",
  "Abandoned Cart",
  "Started Checkout",
  "Completed Purchase",
  "Started Trial",
  "Upgraded Plan",
  "Downgraded Plan",
  "Invited Teammate",
  "Created Project",
  "Exported Report",
  "Opened Email",
  "Clicked Email",
  "Watched Video",
  "Submitted Form",
  "Contacted Support"
] as const

const plans = ["free", "pro", "team", "enterprise"] as const
const pages = ["/app/settings", "/app/reports", "/pricing", "/docs/start"] as const
const tiers = ["basic", "advanced", "enterprise"] as const
const windows = ["15m", "1h", "24h", "7d"] as const

/**
 * Rule `i` reads `eventNames[i % 20]` (five rules per name) and, for the kinds that need a second
 * name, `eventNames[(i + 7) % 20]`. Kinds rotate every 20 rules: a windowed event with property
 * predicates for returning users, a count, a two-step sequence, an absence after an anchor
 * (deadlines of 15 minutes or more: none comes due during a run), and an event without another.
 */
const generatedRule = (i: number) => {
  const name = eventNames[i % eventNames.length]!
  const other = eventNames[(i + 7) % eventNames.length]!
  const within = windows[i % windows.length]!
  const plan = plans[i % plans.length]!
  const plan2 = plans[(i + 1) % plans.length]!
  const threshold = 40 + (i % 5) * 10
  const kind = Math.floor(i / eventNames.length) % 5
  const when = [
    [
      `      all:`,
      `        - event: { name: ${name}, where: { plan: { in: [${plan}, ${plan2}] }, value: { gte: ${threshold} } }, within: ${within} }`,
      `        - trait: { isReturning: true }`
    ],
    [`      event: { name: ${name}, where: { page: { startsWith: /app }, value: { gte: ${threshold - 30} } }, count: { gte: 2 }, within: ${within} }`],
    [`      sequence:`, `        steps: [{ name: ${other}, where: { tier: ${tiers[i % tiers.length]} } }, ${name}]`, `        within: ${within}`],
    [`      absent:`, `        name: ${other}`, `        within: ${within === "15m" ? "30m" : within}`, `        after: { name: ${name}, where: { value: { gt: ${threshold} } } }`],
    [
      `      all:`,
      `        - event: { name: ${name}, where: { plan: { neq: free } }, within: ${within} }`,
      `        - not: { event: { name: ${other}, within: 1h } }`
    ]
  ][kind]!
  return [
    `  - id: g${i}`,
    `    version: 1`,
    `    name: Generated ${i} (${name})`,
    `    priority: ${i % 10}`,
    ...(i % 10 === 3 ? [`    group: promo-${i % 4}`] : []),
    `    cooldown: ${i % 2 === 0 ? "1h" : "1d"}`,
    ...(i % 7 === 0 ? [`    caps: [{ max: 2, per: 24h }]`] : []),
    `    action: { journey: journey-${i % 12} }`,
    `    when:`,
    ...when
  ].join("\n")
}

const probeRule = (id: string, event: string) =>
  [
    `  - id: ${id}`,
    `    version: 1`,
    `    name: ${id}`,
    `    priority: 100`,
    `    cooldown: 0s`,
    `    action: { journey: ${id} }`,
    `    when:`,
    `      event: { name: ${event}, within: 1m }`
  ].join("\n")

/** The rule set the bench publishes (YAML): the two probe rules and `generated` generated rules. */
export const ruleSetYaml = (generated: number) =>
  [
    `version: 1`,
    `rules:`,
    probeRule(latencyRule, latencyEvent),
    probeRule(markerRule, markerEvent),
    ...Array.from({ length: generated }, (_, i) => generatedRule(i))
  ].join("\n") + "\n"

export interface Encoded {
  readonly buffers: Array<Buffer>
  /** The stored event id of each message: what a decision's `causeEventId` names. */
  readonly eventIds: Array<string>
}

const encode = (messageId: string, userId: string, name: string, properties: Record<string, unknown>) =>
  Buffer.from(
    TrackRequest.encode({
      messageId,
      userId,
      name,
      occurredAt: undefined,
      sentAt: undefined,
      properties,
      context: { source: "bench-e2e" }
    }).finish()
  )

const encodeAll = (count: number, f: (i: number) => Message): Encoded => {
  const buffers: Array<Buffer> = new Array(count)
  const eventIds: Array<string> = new Array(count)
  for (let i = 0; i < count; i++) {
    const m = f(i)
    buffers[i] = encode(m.messageId, m.userId, m.name, m.properties)
    eventIds[i] = EventId.forMessage(m.messageId)
  }
  return { buffers, eventIds }
}

/** One "Bench Fire" event per user: with a rule that fires on the rising edge, every event fires. */
export const latencyEvents = (runId: string, count: number) =>
  encodeAll(count, (i) => ({
    messageId: `${runId}-lat-${i}`,
    userId: `${runId}-lat-user-${i}`,
    name: latencyEvent,
    properties: { plan: "pro", page: "/pricing" }
  }))

export const markerEvents = (runId: string, tag: string, count: number) =>
  encodeAll(count, (i) => ({
    messageId: `${runId}-marker-${tag}-${i}`,
    userId: `${runId}-marker-${tag}-${i}`,
    name: markerEvent,
    properties: {}
  }))

export interface Message {
  readonly messageId: string
  readonly userId: string
  readonly name: string
  readonly properties: Record<string, unknown>
}

/**
 * The throughput load's messages, in order (call it with 0, 1, 2, ...): message `i` goes to user
 * `(i * 7919) % users` (7919 is prime and coprime with the user counts used, so the first `users`
 * messages reach every user once before any user repeats), 10% "Session Started", the rest spread
 * over the 20 names, with pseudo-random plan, value, page and tier (xorshift32, fixed seed: the
 * same stream every run).
 */
export const throughputMessages = (runId: string, users: number): ((i: number) => Message) => {
  let x = 0x9e3779b9 | 0
  const next = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4_294_967_296
  }
  return (i) => {
    const r = next()
    return {
      messageId: `${runId}-tp-${i}`,
      userId: `${runId}-user-${(i * 7919) % users}`,
      name: r < 0.1 ? "Session Started" : eventNames[Math.floor(next() * eventNames.length)]!,
      properties: {
        plan: plans[Math.floor(next() * plans.length)]!,
        value: Math.floor(next() * 100),
        page: pages[Math.floor(next() * pages.length)]!,
        tier: tiers[Math.floor(next() * tiers.length)]!
      }
    }
  }
}

/** `count` throughput messages over `users` users, encoded. */
export const throughputEvents = (runId: string, count: number, users: number) => encodeAll(count, throughputMessages(runId, users))
