import type { Address } from "viem";
import { eventsOf } from "./logs";
import type { Invariant } from "./types";

const AGENT = 2;

/**
 * No admitted agent holds more than its cap; the agent house's capacity is exactly the sum of the admitted agents'
 * caps; each operator's admitted agents hold no more than the operator cap in force when they were last written.
 */
export const agentWeightsWithinCaps: Invariant = {
  name: "CovenantVotes: no agent over its cap, capacity equals the sum of caps",
  contract: "CovenantVotes",
  async check(ctx, abiOf) {
    const address = ctx.addresses.CovenantVotes!;
    const abi = abiOf("CovenantVotes");
    const admitted = await eventsOf(ctx, address, abi, "AgentAdmitted");
    const ids = [...new Set(admitted.map((a) => a.agentId as bigint))];
    let capSum = 0n;
    const byOperator = new Map<string, bigint[]>();
    let seated = 0;
    for (const agentId of ids) {
      const seat = (await ctx.client.readContract({ address, abi, functionName: "agentSeat", args: [agentId] })) as {
        voter: Address;
        operator: Address;
        admitted: boolean;
      };
      if (!seat.admitted) continue;
      seated++;
      const [, house, , , cap] = (await ctx.client.readContract({
        address,
        abi,
        functionName: "latestCheckpoint",
        args: [seat.voter],
      })) as readonly [number, number, number, bigint, bigint];
      if (Number(house) !== AGENT)
        return { ok: false, detail: `agent ${agentId}'s voter ${seat.voter} is not in the agent house` };
      const weight = (await ctx.client.readContract({
        address,
        abi,
        functionName: "agentWeight",
        args: [agentId],
      })) as bigint;
      if (weight > cap) return { ok: false, detail: `agent ${agentId} has weight ${weight} over its cap ${cap}` };
      capSum += cap;
      const group = byOperator.get(seat.operator) ?? [];
      group.push(cap);
      byOperator.set(seat.operator, group);
    }
    const capacity = (await ctx.client.readContract({
      address,
      abi,
      functionName: "getHouseSupply",
      args: [AGENT],
    })) as bigint;
    if (capacity !== capSum)
      return { ok: false, detail: `agent house capacity ${capacity} but the seats' caps sum to ${capSum}` };
    const [agentCap, operatorCap] = (await ctx.client.readContract({
      address,
      abi,
      functionName: "caps",
    })) as readonly [bigint, bigint];
    for (const [operator, caps] of byOperator) {
      // All agents of one operator are written together, so they share one cap: n × cap ≤ operator cap then.
      const distinct = new Set(caps);
      if (distinct.size > 1)
        return { ok: false, detail: `operator ${operator}'s agents hold different caps ${[...distinct].join(", ")}` };
      const sum = caps.reduce((a, b) => a + b, 0n);
      if (caps[0]! <= agentCap && sum > operatorCap) {
        return {
          ok: false,
          detail: `operator ${operator}'s agents have caps summing to ${sum} over the operator cap ${operatorCap}`,
        };
      }
    }
    return { ok: true, detail: `${seated} admitted agents within caps; capacity ${capacity}` };
  },
};
