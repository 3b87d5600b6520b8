import { credentials } from "@grpc/grpc-js"
import type { ChannelCredentials, Client, ClientOptions, ClientReadableStream, ClientWritableStream, ServiceError } from "@grpc/grpc-js"
import { Effect, Stream } from "effect"
import { RpcError } from "../CliError.js"

/** The shape of every generated service client class. */
type ClientConstructor<C extends Client> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>
) => C

type Callback<A> = (error: ServiceError | null, response: A) => void

/** A client for the service behind `address`, closed when the scope ends. */
export const connect = <C extends Client>(
  Constructor: ClientConstructor<C>,
  address: string
) =>
  Effect.acquireRelease(
    Effect.sync(() => new Constructor(address, credentials.createInsecure())),
    (client) => Effect.sync(() => client.close())
  )

const resumeWith = <A>(resume: (effect: Effect.Effect<A, RpcError>) => void): Callback<A> => (error, response) =>
  resume(error === null ? Effect.succeed(response) : Effect.fail(RpcError.fromCause(error)))

/** One request, one response; interrupting cancels the call. */
export const unary = <A>(start: (callback: Callback<A>) => { cancel(): void }) =>
  Effect.async<A, RpcError>((resume) => {
    const call = start(resumeWith(resume))
    return Effect.sync(() => call.cancel())
  })

/**
 * Writes every request, waiting for 'drain' whenever the call's buffer is
 * full, so the engine's reading pace sets ours and the send buffer stays
 * bounded however large the batch.
 */
export const clientStreaming = <I, A>(
  start: (callback: Callback<A>) => ClientWritableStream<I>,
  requests: ReadonlyArray<I>
) =>
  Effect.async<A, RpcError>((resume) => {
    const call = start(resumeWith(resume))
    let next = 0
    const writeUntilFull = (): void => {
      while (next < requests.length) {
        if (!call.write(requests[next++])) {
          call.once("drain", writeUntilFull)
          return
        }
      }
      call.end()
    }
    writeUntilFull()
    return Effect.sync(() => call.cancel())
  })

/**
 * The responses of a server stream on its own client, closed with the stream.
 * The call is paused until each response is taken, so a slow consumer slows
 * the server instead of filling memory; ending the stream early cancels the call.
 */
export const serverStreaming = <C extends Client, A>(
  Constructor: ClientConstructor<C>,
  address: string,
  start: (client: C) => ClientReadableStream<A>
): Stream.Stream<A, RpcError> =>
  Stream.unwrapScoped(
    Effect.map(connect(Constructor, address), (client) =>
      Stream.async<A, RpcError>((emit) => {
        const call = start(client)
        call.on("data", (response: A) => {
          call.pause()
          void emit.single(response).then(() => call.resume())
        })
        call.on("error", (error) => void emit.fail(RpcError.fromCause(error)))
        call.on("end", () => void emit.end())
        return Effect.sync(() => call.cancel())
      }))
  )
