/** The Nessus REST client service: auth modes, operations, exports. */
export * as NessusClient from "./NessusClient.js"
/** The one error type of the client, with a `reason`, a helpful `message` and `isTransient`. */
export * as NessusError from "./NessusError.js"
/** Schemas of what Nessus answers and of the scan specification the client accepts. */
export * as NessusModel from "./NessusModel.js"
/** TLS trust for self-signed Nessus certificates: CA bundle, pinned fingerprint, explicit insecure. */
export * as NessusTls from "./NessusTls.js"
