import { createHash } from "node:crypto"

const bytesOf = (uuid: string) => Buffer.from(uuid.replace(/-/g, ""), "hex")

const format = (b: Buffer) => {
  const h = b.toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** RFC 4122 name-based UUID (version 5, SHA-1): the same name always gives the same id. */
export const uuidV5 = (namespace: string, name: string): string => {
  const hash = createHash("sha1").update(bytesOf(namespace)).update(name, "utf8").digest()
  const b = hash.subarray(0, 16)
  b[6] = (b[6]! & 0x0f) | 0x50
  b[8] = (b[8]! & 0x3f) | 0x80
  return format(b)
}

/** Fixed namespace of ingested producer messages; changing it would break dedup of stored ids. */
const MessageNamespace = "5b0c0e1e-4f7a-4a39-9d57-0c1d8f6b9a21"

/** The id of the event stored for a producer message: a retry maps to the same id, so the store ignores it. */
export const forMessage = (messageId: string): string => uuidV5(MessageNamespace, messageId)
