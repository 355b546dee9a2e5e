import { Contract, getAddress, id, ZeroHash } from "ethers";
import type { CheckContext, Finding } from "./types";

const ACCESS_CONTROL_ABI = [
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
];

/** Role names as the contracts spell them; DEFAULT_ADMIN_ROLE is zero. */
export function roleId(name: string): string {
  return name === "DEFAULT_ADMIN_ROLE" ? ZeroHash : id(name);
}

/**
 * Every account that holds `role` on an AccessControl contract now: replayed from RoleGranted/RoleRevoked since
 * the deployment, then confirmed with hasRole (so a missed log cannot hide a holder that the chain still knows).
 */
export async function roleHolders(ctx: CheckContext, address: string, role: string): Promise<Set<string>> {
  const contract = new Contract(address, ACCESS_CONTROL_ABI, ctx.provider);
  const roleHash = roleId(role);
  const head = await ctx.provider.getBlockNumber();
  const candidates = new Set<string>();
  const CHUNK = 5_000;
  for (let from = ctx.fromBlock; from <= head; from += CHUNK) {
    const to = Math.min(head, from + CHUNK - 1);
    const granted = await contract.queryFilter(contract.filters.RoleGranted!(roleHash), from, to);
    for (const log of granted) {
      if ("args" in log) candidates.add(getAddress(log.args.account as string));
    }
  }
  const holders = new Set<string>();
  for (const account of candidates) {
    if (await contract.getFunction("hasRole")(roleHash, account)) holders.add(account);
  }
  return holders;
}

/** Compares the holders of `role` with exactly the expected accounts, naming every extra and missing one. */
export async function expectRole(
  ctx: CheckContext,
  contractName: string,
  role: string,
  expected: Record<string, string | undefined>,
): Promise<Finding[]> {
  const address = ctx.record.contracts[contractName]?.address;
  if (!address) return [{ subject: contractName, problem: "not in the deployment record" }];
  const findings: Finding[] = [];
  ctx.checkedRoles?.add(`${contractName}:${roleId(role)}`);
  const holders = await roleHolders(ctx, address, role);
  const expectedByAddress = new Map<string, string>();
  for (const [label, account] of Object.entries(expected)) {
    if (!account) {
      findings.push({ subject: `${contractName}.${role}`, problem: `expected holder "${label}" is not known` });
      continue;
    }
    expectedByAddress.set(getAddress(account), label);
  }
  for (const holder of holders) {
    if (expectedByAddress.has(holder)) continue;
    const who =
      ctx.record.deployer && getAddress(ctx.record.deployer) === holder ? "the deployer" : "an unexpected account";
    findings.push({ subject: `${contractName}.${role}`, problem: `held by ${who} ${holder}` });
  }
  for (const [account, label] of expectedByAddress) {
    if (!holders.has(account))
      findings.push({ subject: `${contractName}.${role}`, problem: `not held by ${label} ${account}` });
  }
  return findings;
}
