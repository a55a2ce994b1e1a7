/** Placeholder until the client lands. */
export * as Probe from "./Probe.js"
