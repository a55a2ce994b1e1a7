import { Context, Effect, Layer } from "effect"

/** Probe service. */
export class Probe extends Context.Service<Probe, { readonly hello: Effect.Effect<string> }>()("@nessus-mcp/nessus-client/Probe") {}

/** Layer. */
export const layer = Layer.succeed(Probe, Probe.of({ hello: Effect.succeed("hi") }))
