import { governanceChecks } from "./governance";
import { identityChecks } from "./identity";
import { safeChecks } from "./safes";
import { spendingChecks } from "./spending";
import { suiteChecks } from "./suite";
import { treasuryChecks } from "./treasury";
import type { CheckContext, DeploymentCheck, Finding } from "./types";

export type { CheckContext, Finding } from "./types";

/** Each part's checks, in order; `suite` last, since it reports the roles none of the others expects. */
export const deploymentChecks: [string, DeploymentCheck][] = [
  ["safes", safeChecks],
  ["identity", identityChecks],
  ["governance", governanceChecks],
  ["treasury", treasuryChecks],
  ["spending", spendingChecks],
  ["suite", suiteChecks],
];

/** Runs every check against the chain; the findings per part (empty: that part is as the parameters file says). */
export async function runDeploymentChecks(
  ctx: Omit<CheckContext, "checkedRoles">,
): Promise<{ part: string; findings: Finding[] }[]> {
  const full: CheckContext = { ...ctx, checkedRoles: new Set() };
  const out: { part: string; findings: Finding[] }[] = [];
  for (const [part, check] of deploymentChecks) out.push({ part, findings: await check(full) });
  return out;
}
