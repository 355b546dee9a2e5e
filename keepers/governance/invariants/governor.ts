import { type Address, keccak256, toHex, zeroAddress } from "viem";
import type { Invariant } from "./types";

const role = (name: string) => keccak256(toHex(name));

/** The governor alone proposes to and executes through the timelock; a guardian exists and may cancel. */
export const governorControlsTimelock: Invariant = {
  name: "CovenantGovernor: only the governor proposes and executes; the guardian can cancel",
  contract: "CovenantGovernor",
  async check({ client, addresses }, abiOf) {
    const governor = addresses.CovenantGovernor!;
    const governorAbi = abiOf("CovenantGovernor");
    const timelockAbi = abiOf("CovenantTimelock");
    const timelock = (await client.readContract({
      address: governor,
      abi: governorAbi,
      functionName: "timelock",
    })) as Address;
    const guardian = (await client.readContract({
      address: governor,
      abi: governorAbi,
      functionName: "proposalGuardian",
    })) as Address;
    const has = (r: string, account: Address) =>
      client.readContract({
        address: timelock,
        abi: timelockAbi,
        functionName: "hasRole",
        args: [role(r), account],
      }) as Promise<boolean>;
    if (guardian === zeroAddress) return { ok: false, detail: "the governor has no guardian" };
    if (!(await has("PROPOSER_ROLE", governor))) return { ok: false, detail: "the governor lost PROPOSER_ROLE" };
    if (!(await has("EXECUTOR_ROLE", governor))) return { ok: false, detail: "the governor lost EXECUTOR_ROLE" };
    if (await has("EXECUTOR_ROLE", zeroAddress)) return { ok: false, detail: "anyone may execute on the timelock" };
    if (!(await has("CANCELLER_ROLE", guardian)))
      return { ok: false, detail: `guardian ${guardian} cannot cancel on the timelock` };
    const admin = (await client.readContract({
      address: timelock,
      abi: timelockAbi,
      functionName: "hasRole",
      args: [`0x${"00".repeat(32)}`, timelock],
    })) as boolean;
    if (!admin) return { ok: false, detail: "the timelock no longer administers itself" };
    return { ok: true, detail: `timelock ${timelock}, guardian ${guardian}` };
  },
};
