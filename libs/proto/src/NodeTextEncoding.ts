import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire"

/**
 * Makes the generated encoders write strings as Node buffers instead of through
 * `TextEncoder`, for the whole process. `TextEncoder.encode` allocates a fresh
 * array per string, and a message has a dozen strings: encoding a `Decision` for
 * WatchFirings took 21.6 µs that way and 7.2 µs with `Buffer.from`, which takes
 * short strings from Node's shared pool. The bytes are the same (lone surrogates
 * become U+FFFD either way); decoding stays as it is, since `TextDecoder` measured
 * no slower.
 */
export const install = (): void => {
  const standard = getTextEncoding()
  configureTextEncoding({
    encodeUtf8: (text) => Buffer.from(text, "utf8"),
    decodeUtf8: standard.decodeUtf8,
    checkUtf8: standard.checkUtf8
  })
}
