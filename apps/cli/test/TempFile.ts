import { Effect } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A file with `contents` in a fresh directory, removed with the directory when the scope closes. */
export const make = (name: string, contents: string) =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "nudge-cli-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    const path = join(dir, name)
    yield* Effect.promise(() => writeFile(path, contents))
    return path
  })
