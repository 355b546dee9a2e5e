import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Abi,
  type Address,
  createPublicClient,
  custom,
  decodeFunctionData,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  keccak256,
  pad,
  toHex,
} from "viem";
import { actionsHash as hashActions, type ProposalActions } from "../../sdk/governance";
import { revertReasonOf } from "../shared";
import type { Invariant, InvariantContext } from "./invariants";

/*
 * An evolution simulated on a fork: the chain at a named block, in an in-process Hardhat network (forking the keeper's
 * own RPC, so no other network is touched), the proposal's actions run as the timelock, the suite's invariants
 * checked afterwards. The result is a report; posting it is the worker's job.
 */

export interface SimulationInput {
  /** JSON-RPC URL the fork reads the chain from. */
  forkUrl: string;
  forkBlock: bigint;
  chainId: number;
  evolutionId: bigint;
  initCodeHash: Hex;
  target: Address;
  actions: ProposalActions;
  governor: Address;
  registry: Address;
  timelock: Address;
  /** The keeper's address (SIMULATOR_ROLE on the real chain). */
  simulator: Address;
  invariants: readonly Invariant[];
  /** Contract addresses by deployment-record name, for the invariants. */
  addresses: Readonly<Record<string, Address>>;
  fromBlock: bigint;
  chunkBlocks: number;
  abiOf: (contractName: string) => Abi;
  errorAbi: Abi;
}

export interface SimulationStep {
  name: string;
  ok: boolean;
  detail: string;
  gasUsed?: string;
}

export interface InvariantOutcome {
  name: string;
  contract: string;
  result: "held" | "broken" | "skipped";
  detail: string;
}

export interface SimulationReport {
  kind: "covenant.evolution-simulation/1";
  chainId: number;
  evolutionId: string;
  initCodeHash: Hex;
  target: Address;
  actionsHash: Hex;
  forkBlock: string;
  forkBlockHash: Hex;
  actions: { target: Address; value: string; calldata: Hex }[];
  steps: SimulationStep[];
  invariants: InvariantOutcome[];
  testsRun: number;
  invariantsChecked: number;
  passed: boolean;
  simulatedAt: string;
  durationMs: number;
}

type Provider = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };

const ERC1967_IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
const SIMULATOR_ROLE = keccak256(toHex("SIMULATOR_ROLE"));
/** The proposal id the fork links a not-yet-proposed evolution to (never a real one). */
const FORK_PROPOSAL_ID = 2n ** 64n - 1n;
const STATUS = ["None", "Proposed", "Attested", "Linked", "Deployed", "RollbackLinked", "RolledBack", "Rejected"];

/**
 * A fresh in-process Hardhat network forking `url` at `blockNumber`. `cacheDir` is where the fork may cache remote
 * answers: give each simulation its own (a local chain that restarts reuses block numbers, so a shared cache lies).
 */
export async function forkAt(url: string, blockNumber: bigint, chainId: number, cacheDir: string): Promise<Provider> {
  const { createHardhatNetworkProvider } = require("hardhat/internal/hardhat-network/provider/provider") as {
    createHardhatNetworkProvider: (config: unknown, logger: unknown) => Promise<Provider>;
  };
  const { defaultHardhatNetworkParams } = require("hardhat/internal/core/config/default-config") as {
    defaultHardhatNetworkParams: { chains: Map<number, { hardforkHistory: Map<string, number> }> };
  };
  // Hardhat knows the hardfork history of public chains; a chain it does not know (a local node, a devnet) is taken
  // to run Prague from genesis, as Covenant's contracts require.
  const chains = new Map(defaultHardhatNetworkParams.chains);
  if (!chains.has(chainId)) chains.set(chainId, { hardforkHistory: new Map([["prague", 0]]) });
  return createHardhatNetworkProvider(
    {
      hardfork: "prague",
      chainId,
      networkId: chainId,
      blockGasLimit: 60_000_000,
      minGasPrice: 0n,
      automine: true,
      intervalMining: 0,
      mempoolOrder: "priority",
      chains,
      genesisAccounts: [],
      allowUnlimitedContractSize: false,
      throwOnTransactionFailures: false,
      throwOnCallFailures: true,
      allowBlocksWithSameTimestamp: false,
      forkConfig: { jsonRpcUrl: url, blockNumber: Number(blockNumber) },
      forkCachePath: cacheDir,
      enableTransientStorage: true,
      enableRip7212: false,
    },
    { enabled: false, printLineFn: () => {}, replaceLastLineFn: () => {} },
  );
}

/** Runs the simulation and returns its report; a failure of any step or invariant makes `passed` false. */
export async function simulateEvolution(input: SimulationInput): Promise<SimulationReport> {
  const started = Date.now();
  const cacheDir = mkdtempSync(join(tmpdir(), "covenant-fork-"));
  try {
    return await simulateOnFork(input, await forkAt(input.forkUrl, input.forkBlock, input.chainId, cacheDir), started);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function simulateOnFork(input: SimulationInput, fork: Provider, started: number): Promise<SimulationReport> {
  const steps: SimulationStep[] = [];
  const outcomes: InvariantOutcome[] = [];
  const client = createPublicClient({ transport: custom(fork) });
  const forkBlock = await client.getBlock({ blockNumber: input.forkBlock });
  // Everything runs in blocks of the fork's own (the first one mined here): EDR executes on the fork block itself
  // only for chains whose hardfork history it knows.
  await fork.request({ method: "evm_mine", params: [] });
  const registryAbi = input.abiOf("EvolutionRegistry");
  const actionsHash = hashActions(input.actions);
  steps.push({
    name: "fork",
    ok: true,
    detail: `block ${input.forkBlock} (${forkBlock.hash}) of chain ${input.chainId}`,
  });

  const send = async (from: Address, to: Address, data: Hex, value = 0n): Promise<SimulationStep & { ok: boolean }> => {
    const tx = { from, to, data, value: toHex(value) };
    try {
      await fork.request({ method: "eth_call", params: [tx, "latest"] });
    } catch (err) {
      return {
        name: "",
        ok: false,
        detail: `reverted: ${revertReasonOf(err, input.errorAbi) ?? (err as Error).message}`,
      };
    }
    const hash = (await fork.request({
      method: "eth_sendTransaction",
      params: [{ ...tx, gas: toHex(30_000_000) }],
    })) as Hex;
    const receipt = await client.getTransactionReceipt({ hash });
    return receipt.status === "success"
      ? { name: "", ok: true, detail: "ok", gasUsed: receipt.gasUsed.toString() }
      : { name: "", ok: false, detail: "reverted when mined" };
  };
  const impersonate = async (account: Address) => {
    await fork.request({ method: "hardhat_impersonateAccount", params: [account] });
    await fork.request({ method: "hardhat_setBalance", params: [account, toHex(10n ** 20n)] });
  };

  let ok = true;
  try {
    for (const account of [input.simulator, input.governor, input.timelock]) await impersonate(account);
    ok = await prepareRegistry(input, client, send, steps, registryAbi, actionsHash, forkBlock.hash!);
    if (ok) {
      for (const [i, target] of input.actions.targets.entries()) {
        const calldata = input.actions.calldatas[i]!;
        const step = await send(input.timelock, target, calldata, input.actions.values[i]!);
        steps.push({ ...step, name: `action ${i}: ${describeCall(target, calldata, input)}` });
        if (!step.ok) {
          ok = false;
          break;
        }
      }
    }
    if (ok) ok = await checkDeployment(input, client, steps, registryAbi);
  } catch (err) {
    ok = false;
    steps.push({ name: "simulation", ok: false, detail: `aborted: ${(err as Error).message.split("\n")[0]}` });
  }

  if (ok) {
    const ctx: InvariantContext = {
      client,
      addresses: input.addresses,
      fromBlock: input.fromBlock,
      chunkBlocks: input.chunkBlocks,
    };
    for (const invariant of input.invariants) {
      if (!input.addresses[invariant.contract]) {
        outcomes.push({
          name: invariant.name,
          contract: invariant.contract,
          result: "skipped",
          detail: "not deployed here",
        });
        continue;
      }
      try {
        const r = await invariant.check(ctx, input.abiOf);
        if ("skipped" in r)
          outcomes.push({ name: invariant.name, contract: invariant.contract, result: "skipped", detail: r.skipped });
        else
          outcomes.push({
            name: invariant.name,
            contract: invariant.contract,
            result: r.ok ? "held" : "broken",
            detail: r.detail,
          });
      } catch (err) {
        outcomes.push({
          name: invariant.name,
          contract: invariant.contract,
          result: "broken",
          detail: `check failed: ${(err as Error).message.split("\n")[0]}`,
        });
      }
    }
  }

  const passed = ok && outcomes.every((o) => o.result !== "broken");
  return {
    kind: "covenant.evolution-simulation/1",
    chainId: input.chainId,
    evolutionId: input.evolutionId.toString(),
    initCodeHash: input.initCodeHash,
    target: input.target,
    actionsHash,
    forkBlock: input.forkBlock.toString(),
    forkBlockHash: forkBlock.hash!,
    actions: input.actions.targets.map((t, i) => ({
      target: t,
      value: input.actions.values[i]!.toString(),
      calldata: input.actions.calldatas[i]!,
    })),
    steps,
    invariants: outcomes,
    testsRun: steps.length,
    invariantsChecked: outcomes.filter((o) => o.result !== "skipped").length,
    passed,
    simulatedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
  };
}

/**
 * Brings the registry on the fork to where the governance proposal's execution finds it: a fresh passed attestation
 * at the fork block and, if no proposal carries the evolution yet, a link to a stand-in proposal id. These are the
 * registry's own functions called as the simulator and the governor, so the fork checks the same rules.
 */
async function prepareRegistry(
  input: SimulationInput,
  client: ReturnType<typeof createPublicClient>,
  send: (from: Address, to: Address, data: Hex) => Promise<SimulationStep>,
  steps: SimulationStep[],
  abi: Abi,
  actionsHash: Hex,
  forkBlockHash: Hex,
): Promise<boolean> {
  const evolution = (await client.readContract({
    address: input.registry,
    abi,
    functionName: "getEvolution",
    args: [input.evolutionId],
  })) as { status: number };
  const status = STATUS[Number(evolution.status)];
  if (status !== "Proposed" && status !== "Attested" && status !== "Linked") {
    steps.push({ name: "prepare", ok: false, detail: `evolution is ${status}` });
    return false;
  }
  const hasRole = (await client.readContract({
    address: input.registry,
    abi,
    functionName: "hasRole",
    args: [SIMULATOR_ROLE, input.simulator],
  })) as boolean;
  if (!hasRole) {
    await send(
      input.timelock,
      input.registry,
      encodeFunctionData({ abi, functionName: "grantRole", args: [SIMULATOR_ROLE, input.simulator] }),
    );
  }
  const attest = await send(
    input.simulator,
    input.registry,
    encodeFunctionData({
      abi,
      functionName: "attest",
      args: [
        {
          evolutionId: input.evolutionId,
          initCodeHash: input.initCodeHash,
          actionsHash,
          chainId: BigInt(input.chainId),
          forkBlock: input.forkBlock,
          forkBlockHash,
          reportHash: keccak256(toHex("provisional attestation inside the fork")),
          testsRun: 0,
          invariantsChecked: 0,
          passed: true,
        },
      ],
    }),
  );
  steps.push({ ...attest, name: "prepare: attestation inside the fork" });
  if (!attest.ok) return false;
  if (status !== "Linked") {
    const link = await send(
      input.governor,
      input.registry,
      encodeFunctionData({
        abi,
        functionName: "linkProposal",
        args: [input.evolutionId, FORK_PROPOSAL_ID, actionsHash],
      }),
    );
    steps.push({ ...link, name: "prepare: link to a stand-in proposal" });
    if (!link.ok) return false;
  }
  return true;
}

/** After the actions ran: the registry recorded the CREATE2 address of the proposed code, and a proxy target runs it. */
async function checkDeployment(
  input: SimulationInput,
  client: ReturnType<typeof createPublicClient>,
  steps: SimulationStep[],
  abi: Abi,
): Promise<boolean> {
  const evolution = (await client.readContract({
    address: input.registry,
    abi,
    functionName: "getEvolution",
    args: [input.evolutionId],
  })) as { status: number; deployed: Address };
  const expected = getContractAddress({
    opcode: "CREATE2",
    from: input.registry,
    salt: pad(toHex(input.evolutionId), { size: 32 }),
    bytecodeHash: input.initCodeHash,
  });
  const code = await client.getCode({ address: expected });
  const deployedOk =
    STATUS[Number(evolution.status)] === "Deployed" &&
    evolution.deployed.toLowerCase() === expected.toLowerCase() &&
    code !== undefined &&
    code !== "0x";
  steps.push({
    name: "deployed code is the proposed code",
    ok: deployedOk,
    detail: deployedOk
      ? `${expected} (CREATE2 of ${input.initCodeHash}), ${(code!.length - 2) / 2} bytes`
      : `registry status ${STATUS[Number(evolution.status)]}, recorded ${evolution.deployed}, expected ${expected}`,
  });
  if (!deployedOk) return false;
  const upgradesTarget = input.actions.targets.some((t) => t.toLowerCase() === input.target.toLowerCase());
  if (BigInt(input.target) === 0n || !upgradesTarget) return true;
  const slot = await client.getStorageAt({ address: input.target, slot: ERC1967_IMPLEMENTATION_SLOT });
  const implementation = `0x${(slot ?? "0x").slice(-40)}`.toLowerCase();
  const upgraded = implementation === expected.toLowerCase();
  steps.push({
    name: "target runs the new code",
    ok: upgraded,
    detail: upgraded ? `${input.target} → ${expected}` : `${input.target}'s implementation is ${implementation}`,
  });
  return upgraded;
}

function describeCall(target: Address, calldata: Hex, input: SimulationInput): string {
  for (const name of ["EvolutionRegistry", "CommonsPolicy"]) {
    try {
      const { functionName } = decodeFunctionData({ abi: input.abiOf(name), data: calldata });
      return `${target}.${functionName}`;
    } catch {
      // not this contract's function
    }
  }
  return `${target}.${calldata.slice(0, 10)}`;
}
