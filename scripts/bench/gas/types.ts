/** One measured operation: the gas of a whole transaction (21,000 base included) under fixed conditions. */
export interface GasMeasurement {
  /** Stable key in gas-snapshot.json, e.g. "AgentRegistry.register(agentURI)". */
  name: string;
  gas: number;
  /** The target for this figure, when it has one. */
  target?: number;
  /** The public reference the target was set against. */
  reference?: string;
  /** The fixed conditions of the measurement. */
  conditions: string;
}

/** A part of the suite that measures its own operations on the in-process Hardhat network. */
export type GasScenario = () => Promise<GasMeasurement[]>;
