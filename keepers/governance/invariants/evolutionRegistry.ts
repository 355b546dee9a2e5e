import { type Address, getContractAddress, type Hex, keccak256, pad, toHex } from "viem";
import { eventsOf } from "./logs";
import type { Invariant } from "./types";

/** Every recorded deployment sits at the CREATE2 address of its proposed init code hash and has code. */
export const evolutionDeploymentsMatchHashes: Invariant = {
  name: "EvolutionRegistry: every deployment is exactly its proposed code",
  contract: "EvolutionRegistry",
  async check(ctx, abiOf) {
    const registry = ctx.addresses.EvolutionRegistry!;
    const deployed = await eventsOf(ctx, registry, abiOf("EvolutionRegistry"), "EvolutionDeployed");
    for (const d of deployed) {
      const id = d.evolutionId as bigint;
      const expected = getContractAddress({
        opcode: "CREATE2",
        from: registry,
        salt: pad(toHex(id), { size: 32 }),
        bytecodeHash: d.initCodeHash as Hex,
      });
      if (expected.toLowerCase() !== (d.deployed as Address).toLowerCase()) {
        return { ok: false, detail: `evolution ${id} recorded at ${d.deployed}, its code hash gives ${expected}` };
      }
      const code = await ctx.client.getCode({ address: expected });
      if (!code || code === "0x") return { ok: false, detail: `evolution ${id}'s contract ${expected} has no code` };
      if (keccak256(code) !== (d.runtimeCodeHash as Hex)) {
        return { ok: false, detail: `evolution ${id}'s code changed since deployment` };
      }
    }
    return { ok: true, detail: `${deployed.length} deployments match their hashes` };
  },
};
