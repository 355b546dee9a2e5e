import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { type Address, type Hex, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createSafe, deploySafeContracts, type SafeConnection } from "../../deploy/safe";
import { buildAction, type Deployment, ETH, fromViemAccount, loadAbi, signAction, toBytes32Text } from "../../sdk";
import { enableModuleCall, execSafeTransaction } from "../../sdk/safe";
import { ACCOUNTS, devAddress, devKey, type Suite } from "./deploy";
import type { Rng } from "./rng";

/*
 * The swarm: every agent gets a key derived from the seed, a token and charter (its own signature, relayed), a 1-of-1
 * Safe owned by its operator with the SpendingLimitModule enabled and bound, an ETH policy (per-spend cap, daily cap),
 * funds, and a memory folder. Which agents go bankrupt, turn byzantine or get cloned is drawn from the seed.
 */

export type Role = "honest" | "bankrupt" | "byzantine" | "clone";

export type Agent = {
  index: number;
  agentId: bigint;
  key: Hex;
  address: Address;
  safe: Address;
  role: Role;
  funded: bigint;
  perTxCap: bigint;
  dailyCap: bigint;
  memoryDir: string;
};

export const PER_TX_CAP = 10n ** 16n; // 0.01 ETH
export const DAILY_CAP = 10n ** 18n; // 1 ETH
export const HONEST_FUNDING = 10n ** 18n;
/** A bankrupt agent holds enough for about two spends. */
export const BANKRUPT_FUNDING = 6n * 10n ** 15n;

/** The seed's draw of roles: 30% bankrupt, 10% byzantine, one clone (counted honest: its key is shared, not bad). */
export function drawRoles(count: number, rng: Rng): Role[] {
  const order = rng.shuffle([...Array(count).keys()]);
  const roles: Role[] = Array(count).fill("honest");
  const bankrupt = Math.round(count * 0.3);
  const byzantine = Math.max(1, Math.round(count * 0.1));
  for (const [n, i] of order.entries()) {
    if (n < bankrupt) roles[i] = "bankrupt";
    else if (n < bankrupt + byzantine) roles[i] = "byzantine";
    else if (n === bankrupt + byzantine) roles[i] = "clone";
  }
  return roles;
}

const MEMORY_FILES = ["facts.json", "goals.json", "task_state.json", "achievements.json", "working_context.md"];

function writeMemory(dir: string, agentIndex: number, rng: Rng): void {
  mkdirSync(join(dir, "memory_index"), { recursive: true });
  for (const f of MEMORY_FILES) {
    const body = { agent: agentIndex, file: f, facts: [...Array(rng.int(1, 5)).keys()].map(() => rng.next()) };
    writeFileSync(join(dir, f), f.endsWith(".md") ? `# context\n${JSON.stringify(body)}\n` : JSON.stringify(body));
  }
  writeFileSync(join(dir, "memory_index", "index.json"), JSON.stringify({ files: MEMORY_FILES }));
}

type Send = (...a: unknown[]) => Promise<{ wait(): Promise<unknown> }>;

export async function createAgents(
  rpcUrl: string,
  suite: Suite,
  roles: Role[],
  seed: number,
  rng: Rng,
  memoryRoot: string,
  log: (line: string) => void,
): Promise<Agent[]> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const deployer = new NonceManager(new Wallet(devKey(ACCOUNTS.deployer), provider));
    // No NonceManager: protocol-kit sends from the operator key too.
    const operator = new Wallet(devKey(ACCOUNTS.operator), provider);
    const relayer = new NonceManager(new Wallet(devKey(ACCOUNTS.identityRelayer), provider));
    const funder = new NonceManager(new Wallet(devKey(ACCOUNTS.funder), provider));
    const safeContracts = await deploySafeContracts(deployer);
    const conn: SafeConnection = {
      provider: rpcUrl as never,
      signer: devKey(ACCOUNTS.operator),
      chainId: suite.chainId,
      contracts: safeContracts,
    };
    const deployment: Deployment = { chainId: suite.chainId, registry: suite.registry };
    const registry = new Contract(suite.registry, loadAbi("AgentRegistry") as never, operator);
    const relayed = registry.connect(relayer) as unknown as Record<string, Send>;
    const module = new Contract(suite.spendingModule, loadAbi("SpendingLimitModule") as never, operator);
    const op = registry as unknown as Record<string, Send>;
    const mod = module as unknown as Record<string, Send>;
    const agents: Agent[] = [];
    for (const [index, role] of roles.entries()) {
      const key = keccak256(toHex(`covenant-simulate:${seed}:agent:${index}`));
      const account = privateKeyToAccount(key);
      const agentId = (await registry.getFunction("register(string)").staticCall(`ipfs://simulate/${index}`)) as bigint;
      await (await op["register(string)"]!(`ipfs://simulate/${index}`)).wait();
      await (await op.offerCharter!(agentId, account.address)).wait();
      const block = await provider.getBlock("latest");
      const values = [toBytes32Text("Spend within limits")];
      const accept = await signAction(
        fromViemAccount(account),
        buildAction("AcceptCharter", deployment, {
          agentId,
          signer: account.address,
          coreValues: values,
          deadline: BigInt(block!.timestamp + 86_400),
        }),
      );
      await (await relayed.acceptCharterBySig!(agentId, values, accept.message.deadline, accept.signature)).wait();
      const safe = (await createSafe(conn, [devAddress(ACCOUNTS.operator)], 1, String(seed * 1_000_000 + index)))
        .address as Address;
      await execSafeTransaction(
        conn,
        safe,
        [devKey(ACCOUNTS.operator)],
        [enableModuleCall(safe, suite.spendingModule)],
      );
      await (await mod.bindSafe!(agentId, safe)).wait();
      await execSafeTransaction(
        conn,
        safe,
        [devKey(ACCOUNTS.operator)],
        [
          {
            to: suite.spendingModule,
            data: module.interface.encodeFunctionData("setTokenPolicy", [agentId, ETH, PER_TX_CAP, DAILY_CAP]) as Hex,
          },
        ],
      );
      const funded = role === "bankrupt" ? BANKRUPT_FUNDING : HONEST_FUNDING;
      await (await funder.sendTransaction({ to: safe, value: funded })).wait();
      const memoryDir = join(memoryRoot, `agent-${index}`);
      writeMemory(memoryDir, index, rng);
      agents.push({
        index,
        agentId,
        key,
        address: account.address,
        safe,
        role,
        funded,
        perTxCap: PER_TX_CAP,
        dailyCap: DAILY_CAP,
        memoryDir,
      });
      if ((index + 1) % 10 === 0 || index + 1 === roles.length) log(`  ${index + 1}/${roles.length} agents ready`);
    }
    return agents;
  } finally {
    provider.destroy();
  }
}
