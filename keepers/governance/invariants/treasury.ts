import { type Address, zeroAddress } from "viem";
import { eventsOf } from "./logs";
import type { Invariant } from "./types";

/*
 * The money path's books, read from the chain: what the EarningsDistributor still owes each opened epoch, and what
 * the Treasury holds against everything it owes. Cost: one read per opened epoch and two per agent that was ever
 * credited or funded, so a simulation of a large deployment reads accordingly.
 */

type Opened = { epoch: bigint; token: Address; total: bigint };

/** Per opened (epoch, token): remaining = total − claims − the expiry sweep. No leaf was paid twice or over the bucket. */
export const epochRemainingMatchesClaims: Invariant = {
  name: "EarningsDistributor: each opened epoch's remaining is its total less its claims",
  contract: "EarningsDistributor",
  async check(ctx, abiOf) {
    const address = ctx.addresses.EarningsDistributor!;
    const abi = abiOf("EarningsDistributor");
    const opened = (await eventsOf(ctx, address, abi, "EpochOpened")) as Opened[];
    const claimed = await eventsOf(ctx, address, abi, "Claimed");
    const swept = await eventsOf(ctx, address, abi, "UnclaimedSwept");
    const key = (epoch: unknown, token: unknown) => `${epoch}:${String(token).toLowerCase()}`;
    const out = new Map<string, bigint>();
    const seen = new Set<string>();
    for (const c of claimed) {
      const k = key(c.epoch, c.token);
      const leaf = `${k}:${c.agentId}`;
      if (seen.has(leaf)) return { ok: false, detail: `agent ${c.agentId} was paid twice in epoch ${c.epoch}` };
      seen.add(leaf);
      const parts = (c.personal as bigint) + (c.infrastructure as bigint) + (c.commons as bigint);
      if (parts !== c.amount) {
        return { ok: false, detail: `agent ${c.agentId}'s claim in epoch ${c.epoch} splits ${c.amount} into ${parts}` };
      }
      out.set(k, (out.get(k) ?? 0n) + (c.amount as bigint));
    }
    for (const s of swept)
      out.set(key(s.epoch, s.token), (out.get(key(s.epoch, s.token)) ?? 0n) + (s.amount as bigint));
    for (const o of opened) {
      const info = (await ctx.client.readContract({
        address,
        abi,
        functionName: "epochInfo",
        args: [o.epoch, o.token],
      })) as { remaining: bigint };
      const expected = o.total - (out.get(key(o.epoch, o.token)) ?? 0n);
      if (info.remaining !== expected) {
        return {
          ok: false,
          detail: `epoch ${o.epoch} (${o.token}): remaining ${info.remaining}, total ${o.total} less claims gives ${expected}`,
        };
      }
    }
    return { ok: true, detail: `${opened.length} opened epochs, ${claimed.length} claims` };
  },
};

/**
 * The Treasury holds at least what it owes in ETH: the unclaimed remainder of every opened epoch, the commons pool, and
 * every agent's personal earnings and infrastructure budget (more only if someone forced ETH in).
 */
export const treasuryHoldsWhatItOwes: Invariant = {
  name: "Treasury: its ETH covers open epochs, the commons and every agent's account",
  contract: "Treasury",
  async check(ctx, abiOf) {
    const treasury = ctx.addresses.Treasury!;
    const distributor = ctx.addresses.EarningsDistributor;
    if (!distributor) return { skipped: "no EarningsDistributor address" };
    const tAbi = abiOf("Treasury");
    const dAbi = abiOf("EarningsDistributor");
    const read = <T>(address: Address, abi: typeof tAbi, functionName: string, args: unknown[]) =>
      ctx.client.readContract({ address, abi, functionName, args }) as Promise<T>;

    let owed = await read<bigint>(treasury, tAbi, "commonsOf", [zeroAddress]);
    const opened = (await eventsOf(ctx, distributor, dAbi, "EpochOpened")) as Opened[];
    for (const o of opened.filter((e) => e.token === zeroAddress)) {
      owed += (await read<{ remaining: bigint }>(distributor, dAbi, "epochInfo", [o.epoch, o.token])).remaining;
    }
    const agents = new Set<bigint>();
    for (const c of await eventsOf(ctx, distributor, dAbi, "Claimed")) agents.add(c.agentId as bigint);
    for (const f of await eventsOf(ctx, treasury, tAbi, "BudgetFunded")) agents.add(f.agentId as bigint);
    for (const agentId of agents) {
      owed += await read<bigint>(treasury, tAbi, "earningsOf", [agentId, zeroAddress]);
      owed += await read<bigint>(treasury, tAbi, "budgetOf", [agentId, zeroAddress]);
    }
    const balance = await ctx.client.getBalance({ address: treasury });
    return balance >= owed
      ? { ok: true, detail: `holds ${balance} wei, owes ${owed} wei (${agents.size} agents)` }
      : { ok: false, detail: `holds ${balance} wei but owes ${owed} wei (${agents.size} agents)` };
  },
};
