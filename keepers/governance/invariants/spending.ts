import type { Address } from "viem";
import { eventsOf } from "./logs";
import type { Invariant } from "./types";

/** No bound agent has spent more today than its daily cap, in any token it has a policy for. */
export const noAgentOverDailyCap: Invariant = {
  name: "SpendingLimitModule: no agent over its daily cap",
  contract: "SpendingLimitModule",
  async check(ctx, abiOf) {
    const address = ctx.addresses.SpendingLimitModule!;
    const abi = abiOf("SpendingLimitModule");
    const policies = await eventsOf(ctx, address, abi, "TokenPolicySet");
    const pairs = new Map<string, { agentId: bigint; token: Address }>();
    for (const p of policies) {
      pairs.set(`${p.agentId}:${p.token}`, { agentId: p.agentId as bigint, token: p.token as Address });
    }
    for (const { agentId, token } of pairs.values()) {
      const policy = (await ctx.client.readContract({
        address,
        abi,
        functionName: "tokenPolicy",
        args: [agentId, token],
      })) as { dailyCap: bigint; spentToday: bigint; remainingToday: bigint };
      if (policy.spentToday > policy.dailyCap) {
        return {
          ok: false,
          detail: `agent ${agentId} spent ${policy.spentToday} of ${token} today, over its cap ${policy.dailyCap}`,
        };
      }
      if (policy.remainingToday !== policy.dailyCap - policy.spentToday) {
        return {
          ok: false,
          detail: `agent ${agentId}'s remaining ${policy.remainingToday} of ${token} is inconsistent`,
        };
      }
    }
    return { ok: true, detail: `${pairs.size} agent/token policies within their daily caps` };
  },
};
