// Worker threads do not inherit a TypeScript loader from every host (vitest's does not): register tsx here.
import { register } from "tsx/esm/api"

register()
await import("./CheckpointerThread.ts")
