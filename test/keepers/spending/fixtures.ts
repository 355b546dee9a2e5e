import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet } from "ethers";
import { createSafe, deploySafeContracts, type SafeConnection } from "../../../deploy/safe";
import { ETH, toBytes32Text } from "../../../sdk";
import { enableModuleCall, execSafeTransaction, type SafeCall } from "../../../sdk/safe";
import {
  type AgentRegistry,
  AgentRegistry__factory,
  type LimitsToken,
  LimitsToken__factory,
  type SpendingLimitModule,
  SpendingLimitModule__factory,
} from "../../../typechain-types";
import { rpc } from "../../helpers/hardhatNode";

/** Hardhat's default accounts (funded on every `hardhat node`). */
const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
export const KEYS = Array.from(
  { length: 16 },
  (_, i) => HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`).privateKey,
);

export const ROLE = {
  deployer: 0,
  council: 1,
  sentinel: 2,
  operator: 3,
  cosigner: 4,
  cosigner2: 5,
  guardian: 6,
  cold: 7,
  attacker: 8,
  recipient: 9,
  agent: 10, // agents use keys 10..15
} as const;

export const ONE = 10n ** 18n;

/**
 * The suite on a real `hardhat node`, as the keeper sees a chain: Safe v1.4.1, AgentRegistry, SpendingLimitModule
 * (sentinel: ROLE.sentinel, 10 freezes per hour), an ERC-20. Deployed with the build's factories from dev keys.
 */
export async function deployOnNode(url: string, chainId = 31337) {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const wallet = (role: number) => new Wallet(KEYS[role]!, provider);
  const deployer = wallet(ROLE.deployer);
  const safeContracts = await deploySafeContracts(deployer);
  const registry = await new AgentRegistry__factory(deployer).deploy(
    deployer.address,
    wallet(ROLE.council).address,
    86_400,
  );
  await registry.waitForDeployment();
  const module = await new SpendingLimitModule__factory(deployer).deploy(
    await registry.getAddress(),
    deployer.address,
    wallet(ROLE.guardian).address,
  );
  await module.waitForDeployment();
  const startBlock = (await provider.getBlockNumber()) - 1;
  await (await module.setSentinel(wallet(ROLE.sentinel).address, 10, 3600)).wait();
  const token = await new LimitsToken__factory(deployer).deploy("Keeper Test Dollar", "KTD");
  await token.waitForDeployment();
  const conn: SafeConnection = { provider: url, signer: KEYS[ROLE.operator]!, chainId, contracts: safeContracts };
  return {
    url,
    provider,
    wallet,
    deployer,
    registry,
    module,
    token,
    conn,
    startBlock,
    moduleAddress: (await module.getAddress()) as `0x${string}`,
    tokenAddress: (await token.getAddress()) as `0x${string}`,
  };
}

export type NodeSuite = Awaited<ReturnType<typeof deployOnNode>>;

/** A 2-of-3 Safe (operator and two co-signers) with the module enabled. */
export async function newSafe(s: NodeSuite, salt: string): Promise<`0x${string}`> {
  const owners = [ROLE.operator, ROLE.cosigner, ROLE.cosigner2].map((r) => s.wallet(r).address);
  const { address } = await createSafe(s.conn, owners, 2, salt);
  await execSafeTransaction(s.conn, address, ownerKeys(), [enableModuleCall(address, s.moduleAddress)]);
  return address as `0x${string}`;
}

export function ownerKeys(): string[] {
  return [KEYS[ROLE.operator]!, KEYS[ROLE.cosigner]!];
}

/** An agent of the operator whose charter agent key `keyIndex` accepted, bound to `safe`. */
export async function newAgent(
  s: NodeSuite,
  safe: string,
  keyIndex: number,
): Promise<{ agentId: bigint; key: Wallet }> {
  const operator = s.wallet(ROLE.operator);
  const key = s.wallet(keyIndex);
  const registry: AgentRegistry = s.registry.connect(operator);
  const agentId = await registry["register(string)"].staticCall("ipfs://keeper-agent");
  await (await registry["register(string)"]("ipfs://keeper-agent")).wait();
  await (await registry.offerCharter(agentId, key.address)).wait();
  await (await s.registry.connect(key).acceptCharter(agentId, [toBytes32Text("Spend within limits")])).wait();
  await (await s.module.connect(operator).bindSafe(agentId, safe)).wait();
  return { agentId, key };
}

/** Runs module calls as a Safe transaction of two owners. */
export async function asSafe(s: NodeSuite, safe: string, calls: string[]): Promise<void> {
  const txs: SafeCall[] = calls.map((data) => ({ to: s.moduleAddress, data: data as `0x${string}` }));
  await execSafeTransaction(s.conn, safe, ownerKeys(), txs);
}

/** The usual policy of an agent: ETH 1/3 and token 100/250 per transaction/day, queue delay 1 hour. */
export function policyCalls(s: NodeSuite, agentId: bigint): string[] {
  const m: SpendingLimitModule["interface"] = s.module.interface;
  return [
    m.encodeFunctionData("setTokenPolicy", [agentId, ETH, ONE, 3n * ONE]),
    m.encodeFunctionData("setTokenPolicy", [agentId, s.tokenAddress, 100n * ONE, 250n * ONE]),
    m.encodeFunctionData("setQueueDelay", [agentId, 3600]),
  ];
}

export async function mint(token: LimitsToken, to: string, amount: bigint) {
  await (await token.mint(to, amount)).wait();
}

/** Moves the node's clock forward and mines a block. */
export async function advance(s: NodeSuite, seconds: number): Promise<void> {
  await rpc(s.url, "evm_increaseTime", [seconds]);
  await rpc(s.url, "evm_mine", []);
}

/** Polls `check` until it returns true, or fails after `timeoutMs` with `what`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { LimitsToken__factory };
