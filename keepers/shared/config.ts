import { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors";
import { Secret } from "./redact";

/*
 * Configuration comes from environment variables only, validated once at start. A wrong value stops
 * the keeper before it touches the chain, with one line per bad variable that says what was
 * expected. Values are never echoed back: RPC URLs carry API keys and the key variables are keys.
 */

export type Env = Record<string, string | undefined>;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How deep a block must be before a keeper acts on it: a number of confirmations, or the chain's `finalized` tag. */
export type Confirmations = number | "finalized";

type ErrorParam = { error: (issue: { input?: unknown }) => string };

/** "required" when the variable is missing, `expected` otherwise. */
function expecting(expected: string): ErrorParam {
  return { error: (issue) => (issue.input === undefined ? "required" : expected) };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/* -------------------------------------------------------------------------------------------- */
/*                                  schema pieces keepers reuse                                 */
/* -------------------------------------------------------------------------------------------- */

const RPC_URLS_EXPECTED = "expected comma-separated http(s) URLs";

/** One or more http(s) URLs, comma separated, in failover order. */
export const rpcUrlsVar = z.string(expecting(RPC_URLS_EXPECTED)).transform((raw, ctx) => {
  const urls = raw
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  const bad = urls.findIndex((u) => !isHttpUrl(u));
  if (urls.length === 0 || bad >= 0) {
    ctx.addIssue({
      code: "custom",
      message: bad >= 0 ? `${RPC_URLS_EXPECTED} (entry ${bad + 1} is not one)` : RPC_URLS_EXPECTED,
    });
    return z.NEVER;
  }
  return urls;
});

/** A decimal integer in [min, max]; `fallback` when unset. */
export function intVar(min: number, max: number, fallback?: number) {
  const expected = `expected an integer from ${min} to ${max}`;
  const base = z.string(expecting(expected)).transform((raw, ctx) => {
    const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: expected });
      return z.NEVER;
    }
    return n;
  });
  return fallback === undefined ? base : base.optional().transform((n) => n ?? fallback);
}

export const chainIdVar = intVar(1, 2 ** 32 - 1);

export const databaseUrlVar = z
  .string()
  .refine((raw) => /^postgres(ql)?:\/\/[^\s]+$/.test(raw), "expected a postgres:// or postgresql:// URL")
  .optional();

export const logLevelVar = z
  .enum(LOG_LEVELS, { error: () => `expected one of ${LOG_LEVELS.join(", ")}` })
  .optional()
  .transform((l): LogLevel => l ?? "info");

export const confirmationsVar = z
  .string()
  .optional()
  .transform((raw, ctx): Confirmations => {
    if (raw === undefined) return 3;
    if (raw === "finalized") return "finalized";
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n > 10_000) {
      ctx.addIssue({ code: "custom", message: 'expected an integer from 0 to 10000, or "finalized"' });
      return z.NEVER;
    }
    return n;
  });

export const privateKeyVar = z
  .string()
  .refine((raw) => /^0x[0-9a-fA-F]{64}$/.test(raw), "expected 0x followed by 64 hex digits")
  .transform((raw) => new Secret(raw as `0x${string}`))
  .optional();

export const secretVar = z
  .string()
  .transform((raw) => new Secret(raw))
  .optional();

export const hostVar = z
  .string()
  .refine((h) => /^[A-Za-z0-9.:[\]-]+$/.test(h), "expected a host name or IP address")
  .optional()
  .transform((h) => h ?? "127.0.0.1");

export type SignerRequirement = "required" | "optional" | "none";

export type KeeperSchemaOptions = {
  /** The keeper's name: `tx-executor`, `earnings`, …; it names the data folder and the metrics. */
  keeper: string;
  /** Default HTTP_PORT (each keeper has its own so that several run on one machine). */
  defaultHttpPort?: number;
  /** Whether the keeper signs transactions with its own key. */
  signer?: SignerRequirement;
};

/** The variables every keeper reads. Keepers add theirs with `keeperConfigSchema(opts, { MY_VAR: … })`. */
export function keeperEnvShape(opts: KeeperSchemaOptions) {
  return {
    RPC_URLS: rpcUrlsVar,
    CHAIN_ID: chainIdVar,
    RPC_TIMEOUT_MS: intVar(100, 120_000, 10_000),
    DATABASE_URL: databaseUrlVar,
    DATA_DIR: z
      .string()
      .optional()
      .transform((d) => d ?? `./.data/${opts.keeper}`),
    LOG_LEVEL: logLevelVar,
    HTTP_HOST: hostVar,
    HTTP_PORT: intVar(0, 65_535, opts.defaultHttpPort ?? 0),
    CONFIRMATIONS: confirmationsVar,
    REORG_DEPTH: intVar(1, 10_000, 64),
    LOG_CHUNK_BLOCKS: intVar(1, 1_000_000, 2_000),
    POLL_INTERVAL_MS: intVar(50, 86_400_000, 12_000),
    KEEPER_PRIVATE_KEY: privateKeyVar,
    KEEPER_KEYSTORE_PATH: z.string().optional(),
    KEEPER_KEYSTORE_PASSWORD: secretVar,
  };
}

type SignerFields = {
  KEEPER_PRIVATE_KEY?: Secret<`0x${string}`> | undefined;
  KEEPER_KEYSTORE_PATH?: string | undefined;
  KEEPER_KEYSTORE_PASSWORD?: Secret | undefined;
};

/** Exactly one signer source when one is needed; never a half-configured keystore. */
function checkSigner(requirement: SignerRequirement, v: SignerFields, ctx: z.RefinementCtx): void {
  const hasKey = v.KEEPER_PRIVATE_KEY !== undefined;
  const hasPath = v.KEEPER_KEYSTORE_PATH !== undefined;
  const hasPassword = v.KEEPER_KEYSTORE_PASSWORD !== undefined;
  if (requirement === "none") {
    for (const name of ["KEEPER_PRIVATE_KEY", "KEEPER_KEYSTORE_PATH", "KEEPER_KEYSTORE_PASSWORD"] as const) {
      if (v[name] !== undefined)
        ctx.addIssue({ code: "custom", path: [name], message: "this keeper signs nothing; unset it" });
    }
    return;
  }
  if (hasKey && hasPath) {
    ctx.addIssue({
      code: "custom",
      path: ["KEEPER_PRIVATE_KEY"],
      message: "set either KEEPER_PRIVATE_KEY or KEEPER_KEYSTORE_PATH, not both",
    });
  }
  if (hasPath && !hasPassword) {
    ctx.addIssue({ code: "custom", path: ["KEEPER_KEYSTORE_PASSWORD"], message: "required with KEEPER_KEYSTORE_PATH" });
  }
  if (hasPassword && !hasPath) {
    ctx.addIssue({ code: "custom", path: ["KEEPER_KEYSTORE_PATH"], message: "required with KEEPER_KEYSTORE_PASSWORD" });
  }
  if (requirement === "required" && !hasKey && !hasPath) {
    ctx.addIssue({
      code: "custom",
      path: ["KEEPER_PRIVATE_KEY"],
      message: "required (or KEEPER_KEYSTORE_PATH with KEEPER_KEYSTORE_PASSWORD)",
    });
  }
}

/** The whole keeper schema, optionally extended with the keeper's own variables. */
export function keeperConfigSchema<E extends z.ZodRawShape = Record<never, never>>(
  opts: KeeperSchemaOptions,
  extra?: E,
) {
  const shape = { ...keeperEnvShape(opts), ...(extra ?? {}) } as ReturnType<typeof keeperEnvShape> & E;
  return z.object(shape).superRefine((v, ctx) => checkSigner(opts.signer ?? "optional", v as SignerFields, ctx), {
    // Run even when other variables failed, so that one start reports every bad variable.
    when: () => true,
  });
}

export type KeeperConfig = z.output<ReturnType<typeof keeperConfigSchema>>;

/**
 * Parses `env` with `schema`. Empty values count as unset (an `.env` line `FOO=` means "not set").
 * Throws a ConfigError listing every bad variable, sorted by name.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.output<S> {
  const cleaned: Env = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && v.trim() !== "") cleaned[k] = v.trim();
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const variable = issue.path.length > 0 ? String(issue.path[0]) : "(config)";
    const message =
      issue.code === "invalid_type" && issue.path.length > 0 && cleaned[variable] === undefined
        ? "required"
        : issue.message;
    const line = `${variable}: ${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    issues.push({ variable, message });
  }
  issues.sort((a, b) => a.variable.localeCompare(b.variable));
  throw new ConfigError(issues);
}
