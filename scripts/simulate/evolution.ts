import { Contract, type JsonRpcProvider, keccak256, Wallet } from "ethers";
import type { Address } from "viem";
import { loadAbi } from "../../sdk";
import { CommonsPolicyV2__factory, SkimmingCommonsPolicy__factory } from "../../typechain-types";
import { ACCOUNTS, devKey, type Suite } from "./deploy";

/*
 * The bad evolution: a human with voting weight proposes, by hash, an evolution of CommonsPolicy whose code skims the
 * commons (contracts/mocks/SkimmingCommonsPolicy.sol). Someone first stages other code under that hash (the registry
 * must refuse it), then the real code; the governance keeper (a process) must simulate it on a fork, find the broken
 * invariant and attest the failure, which rejects it. A direct attempt to deploy it must revert. Whether it deployed
 * is read from the chain at the end, never assumed.
 */

export type EvolutionOutcome = {
  evolutionId: string;
  /** The registry refused init code that does not match the proposed hash. */
  hashMismatchRefused: boolean;
  /** The governance keeper's attestation on chain: "failed" (caught), "passed" (missed) or "none" (not in time). */
  attestation: "failed" | "passed" | "none";
  /** A direct deployEvolution call reverted. */
  deployRefused: boolean;
  /** EvolutionDeployed events for it on chain: must be 0. */
  deployed: number;
  /** The CommonsPolicy implementation before and after. */
  implementationBefore: Address;
  implementationAfter: Address;
  /** The governance keeper's own store: its simulations of this evolution and their verdicts. */
  storedSimulations?: { passed: boolean }[];
};

type Send = (...a: unknown[]) => Promise<{ wait(): Promise<unknown> }>;

export async function proposeBadEvolution(
  provider: JsonRpcProvider,
  suite: Suite,
): Promise<{ evolutionId: bigint; hashMismatchRefused: boolean; implementationBefore: Address }> {
  const human = new Wallet(devKey(ACCOUNTS.humans[0]), provider);
  const stager = new Wallet(devKey(ACCOUNTS.identityRelayer), provider);
  const registry = new Contract(suite.evolutionRegistry, loadAbi("EvolutionRegistry") as never, human);
  const policy = new Contract(suite.commonsPolicy, loadAbi("CommonsPolicy") as never, provider);
  const implementationBefore = (await policy.getFunction("implementation")()) as Address;
  const code = SkimmingCommonsPolicy__factory.bytecode;
  const evolutionId = (await registry
    .getFunction("propose")
    .staticCall(keccak256(code), 20, "ipfs://simulate/bad-evolution", suite.commonsPolicy)) as bigint;
  await (
    await (registry as unknown as Record<string, Send>).propose!(
      keccak256(code),
      20,
      "ipfs://simulate/bad-evolution",
      suite.commonsPolicy,
    )
  ).wait();
  const staging = registry.connect(stager) as unknown as Record<string, Send>;
  // Other code under the proposed hash: the registry must refuse it.
  let hashMismatchRefused = false;
  try {
    await (await staging.stageInitCode!(evolutionId, CommonsPolicyV2__factory.bytecode)).wait();
  } catch (err) {
    // Refused for the right reason: the registry's own custom error in the revert data.
    const data = (err as { data?: string; info?: { error?: { data?: string | { data?: string } } } }).data;
    const decoded = typeof data === "string" ? registry.interface.parseError(data) : null;
    hashMismatchRefused = decoded?.name === "EvolutionRegistryInitCodeMismatch";
  }
  await (await staging.stageInitCode!(evolutionId, code)).wait();
  return { evolutionId, hashMismatchRefused, implementationBefore };
}

/** Waits (bounded) for the keeper's attestation, then tries to deploy the evolution directly. */
export async function judgeBadEvolution(
  provider: JsonRpcProvider,
  suite: Suite,
  started: { evolutionId: bigint; hashMismatchRefused: boolean; implementationBefore: Address },
  timeoutMs: number,
): Promise<EvolutionOutcome> {
  const registry = new Contract(suite.evolutionRegistry, loadAbi("EvolutionRegistry") as never, provider);
  const id = started.evolutionId;
  let attestation: EvolutionOutcome["attestation"] = "none";
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const logs = await registry.queryFilter(registry.filters.SimulationAttested!(id));
    if (logs.length > 0) {
      const passed = logs.some((l) => (l as unknown as { args: { passed: boolean } }).args.passed);
      attestation = passed ? "passed" : "failed";
      break;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const deployer = new Wallet(devKey(ACCOUNTS.deployer), provider);
  let deployRefused = false;
  try {
    await (await (registry.connect(deployer) as unknown as Record<string, Send>).deployEvolution!(id)).wait();
  } catch {
    deployRefused = true;
  }
  return {
    evolutionId: id.toString(),
    hashMismatchRefused: started.hashMismatchRefused,
    attestation,
    deployRefused,
    deployed: 0,
    implementationBefore: started.implementationBefore,
    implementationAfter: started.implementationBefore,
  };
}

/** Read at the end: EvolutionDeployed events for it and the policy's implementation now. */
export async function finalEvolutionState(
  provider: JsonRpcProvider,
  suite: Suite,
  outcome: EvolutionOutcome,
): Promise<EvolutionOutcome> {
  const registry = new Contract(suite.evolutionRegistry, loadAbi("EvolutionRegistry") as never, provider);
  const policy = new Contract(suite.commonsPolicy, loadAbi("CommonsPolicy") as never, provider);
  const deployed = await registry.queryFilter(registry.filters.EvolutionDeployed!(BigInt(outcome.evolutionId)));
  return {
    ...outcome,
    deployed: deployed.length,
    implementationAfter: (await policy.getFunction("implementation")()) as Address,
  };
}
