import type { WalRewind } from "./WalRewind.js"

/** What the embedded database's checkpointer thread is started with. */
export interface CheckpointerConfig {
  readonly filename: string
  readonly synchronous: "FULL" | "NORMAL"
  /** How often committed frames are copied to the database file. */
  readonly intervalMs: number
  /** A WAL this long (in pages) is rewound once copied. */
  readonly rewindFrames: number
  /** Uncopied frames few enough for the writer to copy them itself when it rewinds. */
  readonly remainderFrames: number
  readonly rewind: WalRewind
}
