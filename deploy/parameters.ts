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

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const bps = int(0, 10_000);

/** Governance settings (deploy/modules/Governance.ts documents each; omitted ones take the module's defaults). */
const governance = z
  .object({
    /** The founding human voters and their weights. */
    humans: z.array(z.object({ address, weight: int(1, 1_000_000_000) }).strict()).min(1),
    timelockMinDelay: int(60, 30 * 86_400).optional(),
    votingDelay: int(0, 30 * 86_400).optional(),
    votingPeriod: int(60, 60 * 86_400).optional(),
    proposalThreshold: int(0, 1_000_000_000).optional(),
    humanQuorumBps: int(1, 10_000).optional(),
    agentQuorumBps: int(1, 10_000).optional(),
    agentHouseBinding: z.boolean().optional(),
    secondsPerAgePoint: int(1, 365 * 86_400).optional(),
    agentCap: int(1, 1_000_000_000).optional(),
    operatorCap: int(1, 1_000_000_000).optional(),
    attestorDailyPoints: int(0, 1_000_000_000).optional(),
    proposalWindow: int(1, 1_000_000).optional(),
    executionWindow: int(1, 1_000_000).optional(),
    commonsFloorBps: bps.optional(),
    personalBps: bps.optional(),
    infrastructureBps: bps.optional(),
    commonsBps: bps.optional(),
  })
  .strict()
  .refine(
    (g) =>
      g.personalBps === undefined || (g.personalBps ?? 0) + (g.infrastructureBps ?? 0) + (g.commonsBps ?? 0) === 10_000,
    "personalBps + infrastructureBps + commonsBps must be 10000",
  )
  .refine((g) => new Set(g.humans.map((h) => h.address)).size === g.humans.length, "humans repeat");

export const parametersSchema = z
  .object({
    safes: z.object({ council: safeSpec, guardian: safeSpec }).strict(),
    /** One hot key per keeper role; each is granted its role and nothing else. */
    keepers: z
      .object({ relayer: address, earningsPoster: address, sentinel: address, attestor: address, simulator: address })
      .catchall(address),
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
        /** Wei of ETH the relayed-gas and backup services may charge one agent per limit period (decimal strings). */
        relayedGasCap: z.string().regex(/^\d{1,30}$/, "expected a decimal amount of wei"),
        backupCap: z.string().regex(/^\d{1,30}$/, "expected a decimal amount of wei"),
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
    Governance: governance,
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
    Governance: (() => {
      const { humans, commonsFloorBps, personalBps, infrastructureBps, commonsBps, ...settings } = params.Governance;
      return {
        ...settings,
        guardian: safes.guardian,
        attestor: params.keepers.attestor,
        simulator: params.keepers.simulator,
        humans: humans.map((h) => h.address),
        humanWeights: humans.map((h) => h.weight),
      };
    })(),
    // The governed component's settings sit in the file's Governance section; the evolution part deploys it.
    Evolution: Object.fromEntries(
      (["commonsFloorBps", "personalBps", "infrastructureBps", "commonsBps"] as const)
        .filter((k) => params.Governance[k] !== undefined)
        .map((k) => [k, params.Governance[k]]),
    ),
    Treasury: {
      poster: params.keepers.earningsPoster,
      guardian: safes.guardian,
      serviceKeeper: params.keepers.relayer,
      ...params.Treasury,
      relayedGasCap: BigInt(params.Treasury.relayedGasCap),
      backupCap: BigInt(params.Treasury.backupCap),
    },
    Spending: {
      guardian: safes.guardian,
      sentinel: params.keepers.sentinel,
      sentinelMaxFreezes: params.Spending.sentinelMaxFreezes,
      sentinelWindow: params.Spending.sentinelWindow,
    },
  };
}
