import { Contract, getAddress, id, ZeroHash } from "ethers";
import type { DeploymentCheck, Finding } from "./types";

const ACCESS_CONTROL_ABI = [
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
];

/** Every role a Covenant contract defines, by id, to name what a finding is about. */
const ROLE_NAMES = new Map<string, string>([
  [ZeroHash, "DEFAULT_ADMIN_ROLE"],
  ...[
    "PROPOSER_ROLE",
    "EXECUTOR_ROLE",
    "CANCELLER_ROLE",
    "RELAYER_ROLE",
    "COUNCIL_ROLE",
    "GUARDIAN_ROLE",
    "EARNINGS_POSTER_ROLE",
    "ATTESTOR_ROLE",
    "SIMULATOR_ROLE",
    // The Treasury's services (their role ids are the hashes of these names).
    "covenant.service.relayed-gas",
    "covenant.service.backup",
  ].map((name) => [id(name), name] as [string, string]),
]);

/**
 * The whole suite, after the parts' checks: every recorded contract has code, and no account holds a role that no
 * part's check expects (a role granted since the deployment on any contract of the record, replayed from
 * RoleGranted and confirmed with hasRole). Run it last: it reads which roles the other checks covered.
 */
export const suiteChecks: DeploymentCheck = async (ctx) => {
  const findings: Finding[] = [];
  const head = await ctx.provider.getBlockNumber();
  for (const [name, entry] of Object.entries(ctx.record.contracts)) {
    if ((await ctx.provider.getCode(entry.address)) === "0x") {
      findings.push({ subject: name, problem: `no contract at ${entry.address}` });
      continue;
    }
    const contract = new Contract(entry.address, ACCESS_CONTROL_ABI, ctx.provider);
    const grants = new Map<string, Set<string>>();
    for (let from = ctx.fromBlock; from <= head; from += 5_000) {
      const logs = await contract.queryFilter(contract.filters.RoleGranted!(), from, Math.min(head, from + 4_999));
      for (const log of logs) {
        if (!("args" in log)) continue;
        const role = log.args.role as string;
        if (!grants.has(role)) grants.set(role, new Set());
        grants.get(role)!.add(getAddress(log.args.account as string));
      }
    }
    for (const [role, accounts] of grants) {
      if (ctx.checkedRoles?.has(`${name}:${role}`)) continue;
      for (const account of accounts) {
        if (!(await contract.getFunction("hasRole")(role, account))) continue;
        const who =
          ctx.record.deployer && getAddress(ctx.record.deployer) === account ? "the deployer" : "an unexpected account";
        findings.push({
          subject: `${name}.${ROLE_NAMES.get(role) ?? role}`,
          problem: `held by ${who} ${account}, and no holder of this role is expected`,
        });
      }
    }
  }
  return findings;
};
