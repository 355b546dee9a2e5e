import { type Abi, parseAbi } from "viem";

type AbiError = Extract<Abi[number], { type: "error" }>;

import { loadAbi } from "../../sdk/abi";

/** Contracts whose ABIs the keeper reads (from the build's artifacts; run `npm run build` first). */
export const CONTRACT_NAMES = [
  "CovenantGovernor",
  "CovenantTimelock",
  "CovenantVotes",
  "EvolutionRegistry",
  "CommonsPolicy",
  "AgentRegistry",
  "RevenueRouter",
  "EarningsDistributor",
  "Treasury",
  "SpendingLimitModule",
] as const;

/** A contract's ABI by name (cached). */
export function abiOf(contractName: string): Abi {
  return loadAbi(contractName);
}

let errors: Abi | undefined;

/** Every custom error of the governed contracts, to turn reverts into names and arguments. */
export function errorAbi(): Abi {
  if (errors) return errors;
  const seen = new Map<string, AbiError>();
  // OpenZeppelin's shared errors (utils/Errors.sol), raised by Address and Create2 inside any contract.
  const common = parseAbi([
    "error InsufficientBalance(uint256 balance, uint256 needed)",
    "error FailedCall()",
    "error FailedDeployment()",
    "error MissingPrecompile(address)",
  ]);
  for (const name of CONTRACT_NAMES) {
    for (const item of [...abiOf(name), ...(name === CONTRACT_NAMES[0] ? common : [])]) {
      if (item.type !== "error") continue;
      const signature = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (!seen.has(signature)) seen.set(signature, item);
    }
  }
  errors = [...seen.values()];
  return errors;
}
