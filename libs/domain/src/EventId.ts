import { hash } from "node:crypto"

const namespaces = new Map<string, Buffer>()

const bytesOf = (uuid: string) => {
  let bytes = namespaces.get(uuid)
  if (bytes === undefined) namespaces.set(uuid, (bytes = Buffer.from(uuid.replace(/-/g, ""), "hex")))
  return bytes
}

const variant = ["8", "9", "a", "b"]

/** Namespace and name are laid out in one buffer kept for the purpose, grown for a longer name. */
let scratch = Buffer.allocUnsafe(512)

/** RFC 4122 name-based UUID (version 5, SHA-1): the same name always gives the same id. */
export const uuidV5 = (namespace: string, name: string): string => {
  // One-shot hashing of a reused buffer: an id per ingested event and three per firing made the streaming Hash
  // object, then the two buffers a concatenation allocates, visible costs.
  const longest = 16 + 3 * name.length
  if (longest > scratch.length) scratch = Buffer.allocUnsafe(longest)
  bytesOf(namespace).copy(scratch, 0)
  const length = 16 + scratch.write(name, 16, "utf8")
  const h = hash("sha1", scratch.subarray(0, length), "hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant[parseInt(h[16]!, 16) & 0x3]}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** Fixed namespace of ingested producer messages; changing it would break dedup of stored ids. */
const MessageNamespace = "5b0c0e1e-4f7a-4a39-9d57-0c1d8f6b9a21"

/** The id of the event stored for a producer message: a retry maps to the same id, so the store ignores it. */
export const forMessage = (messageId: string): string => uuidV5(MessageNamespace, messageId)
