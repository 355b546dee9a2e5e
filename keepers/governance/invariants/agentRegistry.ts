import type { Address } from "viem";
import type { Invariant } from "./types";

/** `contract`'s admin (DEFAULT_ADMIN_ROLE) is the timelock. */
export function adminIsTimelock(contract: string): Invariant {
  return {
    name: `${contract}: the timelock is its admin`,
    contract,
    async check({ client, addresses }, abiOf) {
      const timelock = addresses.CovenantTimelock as Address | undefined;
      if (!timelock) return { skipped: "no CovenantTimelock address" };
      const admin = (await client.readContract({
        address: addresses[contract]!,
        abi: abiOf(contract),
        functionName: "hasRole",
        args: [`0x${"00".repeat(32)}`, timelock],
      })) as boolean;
      return admin
        ? { ok: true, detail: `admin ${timelock}` }
        : { ok: false, detail: `the timelock is not the ${contract}'s admin` };
    },
  };
}

/** The identity registry's admin is the timelock. */
export const agentRegistryAdminIsTimelock: Invariant = adminIsTimelock("AgentRegistry");
