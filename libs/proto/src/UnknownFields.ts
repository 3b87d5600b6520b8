/**
 * Fields a decoded message carries that this API version does not have. ts-proto keeps them by wire tag (the field
 * number shifted past 3 wire-type bits), and a client sending one expects it to mean something: it is refused.
 */
export const describe = (message: { readonly _unknownFields?: object | undefined } | undefined): string | undefined => {
  const tags = Object.keys(message?._unknownFields ?? {})
  return tags.length === 0 ? undefined : `unknown field number ${tags.map((tag) => Number(tag) >>> 3).join(", ")}: not part of this API version`
}
