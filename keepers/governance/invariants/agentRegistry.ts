import type { Address } from "viem";
import type { Invariant } from "./types";

/** The identity registry's admin is the timelock. */
export const agentRegistryAdminIsTimelock: Invariant = {
  name: "AgentRegistry: the timelock is its admin",
  contract: "AgentRegistry",
  async check({ client, addresses }, abiOf) {
    const timelock = addresses.CovenantTimelock as Address | undefined;
    if (!timelock) return { skipped: "no CovenantTimelock address" };
    const admin = (await client.readContract({
      address: addresses.AgentRegistry!,
      abi: abiOf("AgentRegistry"),
      functionName: "hasRole",
      args: [`0x${"00".repeat(32)}`, timelock],
    })) as boolean;
    return admin
      ? { ok: true, detail: `admin ${timelock}` }
      : { ok: false, detail: "the timelock is not the registry's admin" };
  },
};
