import { z } from "zod";
import { intVar, keeperConfigSchema, submitterEnvShape } from "../shared";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

const address = z
  .string({ error: (i) => (i.input === undefined ? "required" : "expected a 0x address") })
  .regex(ADDRESS, "expected a 0x address");

const booleanVar = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"], { error: () => "expected true or false" })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === "true" || v === "1"));

/**
 * The earnings keeper's environment: keepers/shared's variables (RPC_URLS, CHAIN_ID, DATABASE_URL, DATA_DIR,
 * CONFIRMATIONS, LOG_CHUNK_BLOCKS, KEEPER_PRIVATE_KEY, …; see docs/keepers.md) and its own below. Without a key it
 * still closes epochs, publishes trees and serves proofs, but posts and claims nothing.
 */
export const earningsConfigSchema = keeperConfigSchema(
  { keeper: "earnings", signer: "optional", defaultHttpPort: 9482 },
  {
    /** The RevenueRouter whose Paid events are read. */
    ROUTER_ADDRESS: address,
    /** Send through the tx-executor (TX_EXECUTOR_URL + TX_EXECUTOR_TOKEN) instead of signing here. */
    ...submitterEnvShape,
    /** The EarningsDistributor roots are posted to (the key must hold EARNINGS_POSTER_ROLE). */
    DISTRIBUTOR_ADDRESS: address,
    /** The router's deployment block: where the Paid scan starts. */
    START_BLOCK: z
      .string({ error: (i) => (i.input === undefined ? "required" : "expected a block number") })
      .regex(/^\d+$/, "expected a block number")
      .transform((s) => BigInt(s)),
    /** Where published trees are written, one content-addressed JSON file each (default DATA_DIR/trees). */
    TREE_DIR: z.string().optional(),
    /** An IPFS HTTP API (kubo's /api/v0) to pin each tree on before its root is posted. */
    IPFS_API_URL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    /** Claim every agent's leaf after the challenge window (the keeper pays the gas). */
    CLAIMS_ENABLED: booleanVar(true),
    /** Gas a claim batch may use; 0: half the block gas limit. */
    CLAIM_BATCH_GAS: intVar(0, 1_000_000_000, 0),
    /** Claim batches sent before waiting for their receipts. */
    CLAIM_IN_FLIGHT: intVar(1, 256, 16),
    /** Log chunks read per tick, so one tick stays bounded while catching up. */
    SCAN_MAX_CHUNKS: intVar(1, 100_000, 200),
    /** Milliseconds to wait for a transaction's receipt before leaving it to the next tick. */
    TX_WAIT_MS: intVar(1_000, 3_600_000, 120_000),
  },
);

export type EarningsConfig = z.output<typeof earningsConfigSchema>;
