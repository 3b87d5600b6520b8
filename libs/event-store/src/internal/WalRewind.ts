/**
 * A flag the checkpointer thread raises for the writer thread once the WAL is
 * long and nearly all copied back: the writer then rewinds it between two of
 * its own transactions, where a rewind needs no lock anybody else holds.
 * Shared memory, because the writer only looks at it between requests and a
 * message would wait behind them.
 */
export type WalRewind = Int32Array

export const make = (): WalRewind => new Int32Array(new SharedArrayBuffer(4))

export const request = (flag: WalRewind) => void Atomics.store(flag, 0, 1)

export const requested = (flag: WalRewind) => Atomics.load(flag, 0) === 1

export const done = (flag: WalRewind) => void Atomics.store(flag, 0, 0)
