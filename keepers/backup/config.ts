import { z } from "zod";
import { intVar, keeperConfigSchema, Secret, submitterEnvShape } from "../shared";

const address = z
  .string({ error: (i) => (i.input === undefined ? "required" : "expected a 0x address") })
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x address");

/**
 * The backup keeper's environment: keepers/shared's variables (RPC_URLS, CHAIN_ID, DATABASE_URL, DATA_DIR,
 * KEEPER_PRIVATE_KEY — the relayer key that sends records and anchors —, …; see docs/keepers.md) and its own.
 */
export const backupConfigSchema = keeperConfigSchema(
  { keeper: "backup", signer: "required", defaultHttpPort: 9484 },
  {
    /** The AgentRegistry records are anchored on. */
    REGISTRY_ADDRESS: address,
    /** Send through the tx-executor (TX_EXECUTOR_URL + TX_EXECUTOR_TOKEN) instead of signing here. */
    ...submitterEnvShape,
    /** The registry's deployment block: where reading BackupRecorded events starts. */
    START_BLOCK: z
      .string()
      .regex(/^\d+$/, "expected a block number")
      .optional()
      .transform((s) => BigInt(s ?? "0")),
    /** One folder per agent: MEMORY_DIR/<agentId>. */
    MEMORY_DIR: z.string({ error: "required: the folder holding one memory folder per agent" }).min(1),
    /** The agents' encrypted keystores: KEYSTORE_DIR/<agentId>.keystore.json. */
    KEYSTORE_DIR: z.string({ error: "required: the folder of the agents' keystores" }).min(1),
    /** The password of the agents' keystores. */
    AGENT_KEYSTORE_PASSWORD: z
      .string({ error: "required" })
      .min(1, "required")
      .transform((v) => new Secret(v)),
    /** Where restores may write (a restore's `to` must lie under it); default MEMORY_DIR. */
    RESTORE_ROOT: z.string().optional(),
    /** Local content store folder (default DATA_DIR/blobs); unused when IPFS_API_URL is set. */
    STORE_DIR: z.string().optional(),
    /** A Kubo node's HTTP API (…/api/v0 is appended) to add, pin and cat blobs. */
    IPFS_API_URL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    /** direct: one recordBackupBySig per backup; batch: anchorBackups over many agents' signed records. */
    ANCHOR_MODE: z.enum(["direct", "batch"], { error: () => "expected direct or batch" }).default("direct"),
    /** Largest batch. */
    BATCH_MAX_LEAVES: intVar(1, 1_000_000, 4_096),
    /** A batch is sent once this many records wait … */
    BATCH_MIN_LEAVES: intVar(1, 1_000_000, 1),
    /** … or once the oldest has waited this long. */
    BATCH_MAX_WAIT_MS: intVar(0, 86_400_000, 60_000),
    /** Seconds a signed record stays relayable (its EIP-712 deadline). */
    RECORD_DEADLINE_SECONDS: intVar(60, 30 * 86_400, 86_400),
    /** Attempts of a backup whose store or signing fails with a retryable error, before it is given up. */
    BACKUP_MAX_ATTEMPTS: intVar(1, 100, 6),
    /** Milliseconds to wait for a transaction's receipt within a tick. */
    TX_WAIT_MS: intVar(1_000, 3_600_000, 120_000),
    /** The Treasury whose BACKUP_SERVICE charges pay for backups (the key needs the BACKUP_SERVICE role). */
    TREASURY_ADDRESS: address.optional(),
    /** The token of the charge (0x0…0 for ETH). */
    BACKUP_PRICE_TOKEN: address.optional(),
    /** Price of one anchored backup, in the token's smallest unit; 0 or unset: nothing is charged. */
    BACKUP_PRICE: z
      .string()
      .regex(/^\d{1,78}$/, "expected an integer amount")
      .optional()
      .transform((s) => BigInt(s ?? "0")),
  },
);

export type BackupConfig = z.output<typeof backupConfigSchema>;
