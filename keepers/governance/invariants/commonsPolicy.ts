import type { Invariant } from "./types";

const BPS = 10_000n;

/** The commons policy's default split is a split (sums to 10,000), meets the floor, and divides amounts exactly. */
export const commonsPolicySplits: Invariant = {
  name: "CommonsPolicy: splits sum to 10,000 and meet the floor",
  contract: "CommonsPolicy",
  async check({ client, addresses }, abiOf) {
    const address = addresses.CommonsPolicy!;
    const abi = abiOf("CommonsPolicy");
    const [personal, infrastructure, commons] = (await client.readContract({
      address,
      abi,
      functionName: "defaultSplit",
    })) as readonly [bigint, bigint, bigint];
    const floor = (await client.readContract({ address, abi, functionName: "commonsFloorBps" })) as bigint;
    if (personal + infrastructure + commons !== BPS) {
      return {
        ok: false,
        detail: `default split ${personal}/${infrastructure}/${commons} sums to ${personal + infrastructure + commons}`,
      };
    }
    if (commons < floor) return { ok: false, detail: `default commons ${commons} bps is below the floor ${floor} bps` };
    for (const amount of [0n, 1n, 999n, 1_001n, 10n ** 18n + 7n, 2n ** 200n - 1n]) {
      const parts = (await client.readContract({
        address,
        abi,
        functionName: "splitAmount",
        args: [amount, personal, infrastructure, commons],
      })) as readonly [bigint, bigint, bigint];
      if (parts[0] + parts[1] + parts[2] !== amount) {
        return { ok: false, detail: `splitAmount(${amount}) parts sum to ${parts[0] + parts[1] + parts[2]}` };
      }
      // Each part is within one unit of its exact share.
      const shares = [personal, infrastructure, commons];
      for (let i = 0; i < 3; i++) {
        const exact = (amount * shares[i]!) / BPS;
        if (parts[i]! < exact || parts[i]! > exact + 2n) {
          return { ok: false, detail: `splitAmount(${amount}) part ${i} is ${parts[i]}, exact share ${exact}` };
        }
      }
    }
    const version = (await client.readContract({ address, abi, functionName: "version" })) as bigint;
    return {
      ok: true,
      detail: `v${version}: ${personal}/${infrastructure}/${commons} bps, floor ${floor} bps, 6 amounts split exactly`,
    };
  },
};
