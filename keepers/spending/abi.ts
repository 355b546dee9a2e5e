import { parseAbi } from "viem";
import { SpendingLimitModule__factory } from "../../typechain-types";

/** The SpendingLimitModule ABI (from the build; `npm run build` writes it). */
export const spendingModuleAbi = SpendingLimitModule__factory.abi;

/** What the keeper reads of an ERC-20. */
export const erc20Abi = parseAbi([
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "function balanceOf(address) view returns (uint256)",
]);

/** A Safe transaction by its owners emits ExecutionSuccess(bytes32 txHash, uint256 payment) from the Safe. */
export const safeEventsAbi = parseAbi([
  "event ExecutionSuccess(bytes32 txHash, uint256 payment)",
  "event ExecutionFromModuleSuccess(address indexed module)",
]);
