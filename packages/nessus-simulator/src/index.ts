/**
 * @since 0.1.0
 */
export * as Catalogue from "./Catalogue.js"

/**
 * @since 0.1.0
 */
export * as Generator from "./Generator.js"

/**
 * @since 0.1.0
 */
export * as Simulator from "./Simulator.js"

/**
 * @since 0.1.0
 */
export * as SimulatorConfig from "./SimulatorConfig.js"

/**
 * @since 0.1.0
 */
export * as SimulatorError from "./SimulatorError.js"
