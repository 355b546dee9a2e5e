import { isAddress } from "viem";
import { z } from "zod";
import { intVar, keeperConfigSchema, submitterEnvShape } from "../shared";

const address = (what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? "required" : `expected the ${what} address`) })
    .refine((a) => isAddress(a, { strict: false }), `expected the ${what} address (0x and 40 hex digits)`)
    .transform((a) => a as `0x${string}`);

const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"], { error: () => "expected true or false" })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === "true" || v === "1"));

/**
 * The governance keeper's variables, on top of every keeper's (RPC_URLS, CHAIN_ID, DATABASE_URL, DATA_DIR, LOG_LEVEL,
 * HTTP_HOST/PORT, CONFIRMATIONS, REORG_DEPTH, LOG_CHUNK_BLOCKS, POLL_INTERVAL_MS, KEEPER_PRIVATE_KEY or
 * KEEPER_KEYSTORE_PATH + KEEPER_KEYSTORE_PASSWORD).
 */
export const governanceConfigSchema = keeperConfigSchema(
  { keeper: "governance", defaultHttpPort: 9464, signer: "required" },
  {
    /** The CovenantGovernor (the timelock and the EvolutionRegistry are read from it). */
    GOVERNOR_ADDRESS: address("CovenantGovernor"),
    /** Send through the tx-executor (TX_EXECUTOR_URL + TX_EXECUTOR_TOKEN) instead of signing here. */
    ...submitterEnvShape,
    /** First block to scan (the governor's deployment block). */
    START_BLOCK: intVar(0, Number.MAX_SAFE_INTEGER, 0),
    /** Queue and execute proposals. */
    EXECUTE: flag(true),
    /** Simulate evolutions and post attestations (the key needs SIMULATOR_ROLE). */
    SIMULATE: flag(true),
    /** Simulate again before execution when the attestation forked more blocks ago than this. */
    RESIMULATE_DISTANCE: intVar(1, 1_000_000, 20),
    /** What the in-process fork reads from (default: the first of RPC_URLS). */
    FORK_RPC_URL: z.string().url("expected an http(s) URL").optional(),
    /** Where reports are stored by content address (default: DATA_DIR/reports). */
    REPORTS_DIR: z.string().optional(),
    /** deployments/<chainId>.json: contract addresses for the invariant checks (CommonsPolicy, Treasury, …). */
    DEPLOYMENT_FILE: z.string().optional(),
    /** How long a tick waits for its transactions before leaving them to the next tick. */
    TX_WAIT_MS: intVar(0, 600_000, 60_000),
  },
);

export type GovernanceConfig = z.output<typeof governanceConfigSchema>;
