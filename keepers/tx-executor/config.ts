import { getAddress, isAddress } from "viem";
import { z } from "zod";
import { intVar, keeperConfigSchema, privateKeyVar, Secret, secretVar } from "../shared";

/*
 * The tx-executor's variables, on top of every keeper's (RPC_URLS, CHAIN_ID, DATABASE_URL, …).
 * KEEPER_PRIVATE_KEY (or the keystore) is the relayer key: it pays gas for every request.
 */

const addressVar = z
  .string()
  .refine((a) => isAddress(a, { strict: false }), "expected a 0x address")
  .transform((a) => getAddress(a))
  .optional();

const weiVar = (fallback: bigint) =>
  z
    .string()
    .regex(/^\d{1,78}$/, "expected a decimal amount of wei")
    .optional()
    .transform((v) => (v === undefined ? fallback : BigInt(v)));

/** `name=token,name2=token2`: the keepers allowed to send their own transactions, each with its token. */
export const keeperTokensVar = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const out = new Map<string, Secret>();
    if (raw === undefined) return out;
    for (const [i, entry] of raw.split(",").entries()) {
      const m = /^\s*([a-z][a-z0-9-]{0,39})=(\S{24,})\s*$/.exec(entry);
      if (!m) {
        ctx.addIssue({
          code: "custom",
          message: `entry ${i + 1} is not name=token (name: lower-case letters, digits, '-'; token: 24+ characters)`,
        });
        return z.NEVER;
      }
      if (out.has(m[1]!)) {
        ctx.addIssue({ code: "custom", message: `keeper ${m[1]} is listed twice` });
        return z.NEVER;
      }
      out.set(m[1]!, new Secret(m[2]!));
    }
    return out;
  });

/** `name=0xkey,…`: keepers whose own transactions go out from their role key rather than the relayer's. */
export const keeperKeysVar = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const out = new Map<string, Secret<`0x${string}`>>();
    if (raw === undefined) return out;
    for (const [i, entry] of raw.split(",").entries()) {
      const m = /^\s*([a-z][a-z0-9-]{0,39})=(0x[0-9a-fA-F]{64})\s*$/.exec(entry);
      if (!m) {
        ctx.addIssue({ code: "custom", message: `entry ${i + 1} is not name=0x followed by 64 hex digits` });
        return z.NEVER;
      }
      out.set(m[1]!, new Secret(m[2]! as `0x${string}`));
    }
    return out;
  });

const simulateAtVar = z
  .enum(["pending", "latest"], { error: () => 'expected "pending" or "latest"' })
  .optional()
  .transform((v) => v ?? "pending");

export const executorConfigSchema = keeperConfigSchema(
  { keeper: "tx-executor", defaultHttpPort: 8091, signer: "required" },
  {
    // The loop follows receipts and replaces stuck transactions; accepted requests do not wait for it.
    POLL_INTERVAL_MS: intVar(50, 600_000, 1_000),
    SPENDING_MODULE: addressVar,
    AGENT_REGISTRY: addressVar,
    SENTINEL_PRIVATE_KEY: privateKeyVar,
    ANOMALY_URL: z
      .string()
      .refine((u) => /^https?:\/\/[^\s]+$/.test(u), "expected the spending keeper's http(s) URL")
      .optional(),
    ANOMALY_TOKEN: secretVar,
    KEEPER_TOKENS: keeperTokensVar,
    KEEPER_KEYS: keeperKeysVar,
    INSTANCE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, "expected 1-64 characters of A-Z a-z 0-9 . _ : -")
      .optional(),
    SIMULATE_AT: simulateAtVar,
    // Charging relayed gas to the agents' infrastructure budgets (charges.ts); off while TREASURY_ADDRESS is unset.
    TREASURY_ADDRESS: addressVar,
    GAS_CHARGE_INTERVAL_MS: intVar(1_000, 86_400_000, 60_000),
    GAS_CHARGE_BATCH: intVar(1, 500, 50),
    EVALUATION_CLAIM_MS: intVar(1_000, 600_000, 10_000),
    GAS_MARGIN_PERCENT: intVar(0, 500, 25),
    MAX_IN_FLIGHT: intVar(1, 10_000, 64),
    BROADCAST_CONCURRENCY: intVar(1, 64, 4),
    REPLACE_AFTER_MS: intVar(100, 86_400_000, 60_000),
    REBROADCAST_AFTER_MS: intVar(100, 86_400_000, 30_000),
    RETRY_BROADCAST_MS: intVar(50, 3_600_000, 2_000),
    FEE_BUMP_PERCENT: intVar(10, 500, 15),
    MAX_FEE_PER_GAS_WEI: weiVar(500_000_000_000n),
    MAX_REPLACEMENTS: intVar(0, 1_000, 10),
    AGENT_RATE_LIMIT: intVar(1, 1_000_000, 120),
    AGENT_RATE_WINDOW_MS: intVar(1_000, 86_400_000, 60_000),
    BREAKER_OVER_CAP_REFUSALS: intVar(1, 10_000, 5),
    BREAKER_UNKNOWN_TARGET_REFUSALS: intVar(1, 10_000, 3),
    BREAKER_WINDOW_MS: intVar(1_000, 86_400_000, 600_000),
  },
);

export type ExecutorConfig = z.output<typeof executorConfigSchema>;
