import { Contract, getAddress } from "ethers";
import type { DeploymentCheck, Finding } from "./types";

const SAFE_ABI = ["function getOwners() view returns (address[])", "function getThreshold() view returns (uint256)"];

/** The council and guardian Safes: deployed, with exactly the owners and threshold of the parameters file. */
export const safeChecks: DeploymentCheck = async (ctx) => {
  const findings: Finding[] = [];
  for (const name of ["council", "guardian"] as const) {
    const address = ctx.record.safes?.[name];
    const spec = ctx.params.safes[name];
    if (!address) {
      findings.push({ subject: `${name} Safe`, problem: "not in the deployment record" });
      continue;
    }
    if ((await ctx.provider.getCode(address)) === "0x") {
      findings.push({ subject: `${name} Safe`, problem: `no contract at ${address}` });
      continue;
    }
    if ("address" in spec) {
      if (getAddress(spec.address) !== getAddress(address)) {
        findings.push({ subject: `${name} Safe`, problem: `is ${address}, the parameters file names ${spec.address}` });
      }
      continue;
    }
    const safe = new Contract(address, SAFE_ABI, ctx.provider);
    const owners = ((await safe.getFunction("getOwners")()) as string[]).map((o) => getAddress(o)).sort();
    const wanted = spec.owners.map((o) => getAddress(o)).sort();
    if (owners.join() !== wanted.join()) {
      findings.push({
        subject: `${name} Safe owners`,
        problem: `are ${owners.join(", ")}; expected ${wanted.join(", ")}`,
      });
    }
    const threshold = Number(await safe.getFunction("getThreshold")());
    if (threshold !== spec.threshold) {
      findings.push({ subject: `${name} Safe threshold`, problem: `is ${threshold}; expected ${spec.threshold}` });
    }
  }
  return findings;
};
