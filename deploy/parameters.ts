/**
 * The parameters file of a network (deploy/parameters/<network>.json): the role table of the deployment and each
 * part's settings. Validated before anything is sent, naming each bad field.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isAddress, ZeroAddress } from "ethers";
import { z } from "zod";

const address = z
  .string()
  .refine((a) => isAddress(a), "expected an address")
  .refine((a) => isAddress(a) && getAddress(a) !== ZeroAddress, "the zero address is not a role holder: fill it in")
  .transform((a) => getAddress(a));

/** A Safe the deployment creates (owners, threshold, salt) or one that already exists (address). */
const safeSpec = z.union([
  z.object({ address }).strict(),
  z
    .object({
      owners: z.array(address).min(1),
      threshold: z.number().int().min(1),
      saltNonce: z.string().regex(/^\d+$/, "a decimal salt").default("0"),
    })
    .strict()
    .refine((s) => s.threshold <= s.owners.length, "threshold is above the number of owners")
    .refine((s) => new Set(s.owners).size === s.owners.length, "owners repeat"),
]);

export const parametersSchema = z
  .object({
    safes: z.object({ council: safeSpec, guardian: safeSpec }).strict(),
    /** One hot key per keeper role; each is granted its role and nothing else. */
    keepers: z.object({ relayer: address, earningsPoster: address, sentinel: address }).catchall(address),
    Identity: z
      .object({
        recoveryDelay: z
          .number()
          .int()
          .min(3600)
          .max(90 * 86_400),
      })
      .strict(),
    /** Earnings epochs and windows (seconds) and the governance-set floors; see deploy/modules/Treasury.ts. */
    Treasury: z
      .object({
        epochLength: z.number().int().min(60),
        challengeWindow: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400),
        claimPeriod: z
          .number()
          .int()
          .min(3600)
          .max(3650 * 86_400),
        commonsFloor: z.number().int().min(0).max(2_000),
        limitPeriod: z.number().int().min(3600),
        genesis: z.number().int().min(0).optional(),
      })
      .strict(),
    /** The sentinel keeper key may freeze at most `sentinelMaxFreezes` agents per `sentinelWindow` seconds. */
    Spending: z
      .object({
        sentinelMaxFreezes: z.number().int().min(1).max(65_535),
        sentinelWindow: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400),
      })
      .strict(),
  })
  .catchall(z.record(z.string(), z.unknown()));

export type DeploymentParameters = z.infer<typeof parametersSchema>;
export type SafeSpec = z.infer<typeof safeSpec>;

/** Reads and validates deploy/parameters/<network>.json; throws one error listing every bad field. */
export function loadParameters(network: string, dir = path.resolve(__dirname, "parameters")): DeploymentParameters {
  const file = path.join(dir, `${network}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = parametersSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`${file} is not valid:\n${issues}`);
  }
  return parsed.data;
}

/** The Ignition parameters of every module, from the role table and the Safes' addresses. */
export function ignitionParameters(
  params: DeploymentParameters,
  safes: { council: string; guardian: string },
): Record<string, Record<string, unknown>> {
  return {
    Identity: {
      council: safes.council,
      relayer: params.keepers.relayer,
      recoveryDelay: params.Identity.recoveryDelay,
    },
    Treasury: {
      poster: params.keepers.earningsPoster,
      guardian: safes.guardian,
      ...params.Treasury,
    },
    Spending: {
      guardian: safes.guardian,
      sentinel: params.keepers.sentinel,
      sentinelMaxFreezes: params.Spending.sentinelMaxFreezes,
      sentinelWindow: params.Spending.sentinelWindow,
    },
  };
}
