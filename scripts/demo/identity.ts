import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import { buildAction, deadlineIn, fromBytes32Text, fromEthersSigner, signAction, toBytes32Text } from "../../sdk";
import type { AgentRegistry } from "../../typechain-types";
import { check, type Report } from "./report";

export interface DemoAgent {
  name: string;
  agentId: bigint;
  operator: HardhatEthersSigner;
  key: HardhatEthersSigner;
  values: string[];
}

async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (receipt?.status !== 1) throw new Error("transaction failed");
  return { tx: receipt.hash, gas: receipt.gasUsed };
}

/**
 * Births: each operator registers an agent and offers the charter to the agent's own key; the agent accepts with
 * its values, signing through the SDK. The first signs and sends itself; the others' signatures are relayed by the
 * keeper key, which never holds the agents' keys.
 */
export async function birthAgents(
  report: Report,
  registry: AgentRegistry,
  chainId: number,
  relayer: HardhatEthersSigner,
  agents: Omit<DemoAgent, "agentId">[],
  now: () => Promise<number>,
): Promise<DemoAgent[]> {
  report.section("Identity and consent");
  const born: DemoAgent[] = [];
  const deployment = { chainId, registry: (await registry.getAddress()) as `0x${string}` };
  for (const [i, a] of agents.entries()) {
    const agentId = await registry.connect(a.operator)["register(string)"].staticCall(`ipfs://covenant-demo/${a.name}`);
    const reg = await mined(registry.connect(a.operator)["register(string)"](`ipfs://covenant-demo/${a.name}`));
    check(
      (await registry.ownerOf(agentId)) === a.operator.address,
      `${a.name}: operator does not own agent ${agentId}`,
    );
    report.add({ step: `register ${a.name}`, detail: `agent ${agentId} owned by its operator`, ...reg });

    const offer = await mined(registry.connect(a.operator).offerCharter(agentId, a.key.address));
    report.add({ step: `offer charter to ${a.name}`, detail: `signer ${a.key.address.slice(0, 10)}…`, ...offer });

    const values = a.values.map((v) => toBytes32Text(v));
    const relayed = i > 0;
    const signed = await signAction(
      await fromEthersSigner(a.key),
      buildAction("AcceptCharter", deployment, {
        agentId,
        signer: a.key.address,
        coreValues: values,
        deadline: deadlineIn(600, await now()),
      }),
    );
    const sender = relayed ? relayer : a.key;
    const accept = await mined(
      registry.connect(sender).acceptCharterBySig(agentId, values, signed.message.deadline as bigint, signed.signature),
    );
    const [accepted, , digest] = await registry.consentRecord(agentId);
    check(accepted, `${a.name}: charter not accepted`);
    check(digest === signed.digest, `${a.name}: consent digest ${digest} is not the signed digest ${signed.digest}`);
    report.add({
      step: `${a.name} accepts its charter`,
      detail: relayed ? "signed by the agent, relayed by the keeper key" : "signed and sent by the agent",
      ...accept,
    });
    born.push({ ...a, agentId });
  }

  for (const a of born) {
    const id = await registry.getIdentity(a.agentId);
    const values = id.coreValues.map((v) => fromBytes32Text(v as `0x${string}`));
    check(id.signer === a.key.address, `${a.name}: signer ${id.signer} is not the agent's key`);
    check(id.owner === a.operator.address, `${a.name}: owner ${id.owner} is not its operator`);
    check(JSON.stringify(values) === JSON.stringify(a.values), `${a.name}: values read back as ${values.join(", ")}`);
    check(id.earningsWallet === a.key.address, `${a.name}: earnings wallet does not default to the agent signer`);
    report.add({
      step: `read ${a.name}'s identity`,
      detail: `agent ${id.agentId}, born ${new Date(Number(id.birthTime) * 1000).toISOString()}, values: ${values.join(" | ")}`,
    });
  }
  return born;
}
