import hre from "hardhat";
import { buildAction, deadlineIn, fromEthersSigner, signAction, toBytes32Text } from "../../../sdk";
import { AGENT_URI, CORE_VALUES, deployIdentity, deployWithAgent } from "../../../test/fixtures/identity";
import type { GasMeasurement } from "./types";

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

async function latestTimestamp(): Promise<number> {
  const block = await hre.ethers.provider.getBlock("latest");
  if (!block) throw new Error("no block");
  return block.timestamp;
}

/** Identity and consent registry: the figures issue #3 sets targets for. */
export async function identityGas(): Promise<GasMeasurement[]> {
  const out: GasMeasurement[] = [];
  const f = await deployIdentity();
  const { registry, operator, relayer, deployment } = f;

  // register(agentURI): the operator already holds an agent, the id counter is warm.
  await registry.connect(operator)["register(string)"](AGENT_URI);
  out.push({
    name: "AgentRegistry.register(agentURI)",
    gas: await gasOf(registry.connect(operator)["register(string)"](AGENT_URI)),
    target: 150_000,
    reference: "ERC-8004 reference registry 183,431-200,531",
    conditions: "40-byte URI, EOA operator already holding an agent, counter warm",
  });

  // setAgentWallet: first explicit wallet (zero -> set) and a change of an explicit wallet.
  const agentId = 1n;
  const walletA = hre.ethers.Wallet.createRandom();
  const walletB = hre.ethers.Wallet.createRandom();
  const setWallet = async (wallet: typeof walletA) => {
    const now = await latestTimestamp();
    const action = buildAction("AgentWalletSet", deployment, {
      agentId,
      newWallet: wallet.address,
      owner: operator.address,
      deadline: deadlineIn(240, now),
    });
    const signed = await signAction(await fromEthersSigner(wallet), action);
    return gasOf(
      registry
        .connect(operator)
        .setAgentWallet(agentId, wallet.address, action.message.deadline as bigint, signed.signature),
    );
  };
  const firstWallet = await setWallet(walletA);
  out.push({
    name: "AgentRegistry.setAgentWallet(first)",
    gas: firstWallet,
    reference: "ERC-8004 reference 50,268",
    conditions: "EOA wallet signature, no explicit wallet before (register writes none)",
  });
  out.push({
    name: "AgentRegistry.setAgentWallet",
    gas: await setWallet(walletB),
    target: 50_000,
    reference: "ERC-8004 reference 50,268",
    conditions: "EOA wallet signature, replacing an explicit wallet (as the reference always does)",
  });

  // acceptCharterBySig: 4 values of <= 31 bytes, relayed by a keeper key.
  await registry.connect(operator).offerCharter(agentId, f.agentKey.address);
  const agentSigner = await fromEthersSigner(f.agentKey);
  const values = CORE_VALUES.map((v) => toBytes32Text(v));
  const accept = await signAction(
    agentSigner,
    buildAction("AcceptCharter", deployment, {
      agentId,
      signer: f.agentKey.address,
      coreValues: values,
      deadline: deadlineIn(3600, await latestTimestamp()),
    }),
  );
  out.push({
    name: "AgentRegistry.acceptCharterBySig(4 values)",
    gas: await gasOf(
      registry
        .connect(relayer)
        .acceptCharterBySig(agentId, values, accept.message.deadline as bigint, accept.signature),
    ),
    target: 160_000,
    reference: "EAS attest 273,937",
    conditions: "4 values of <= 31 bytes, EOA agent signer, relayed by a keeper EOA, charter offered",
  });

  // recordBackupBySig: a later record (the trail exists).
  const cid = `0x01551220${"ab".repeat(32)}`;
  const backup = async (sequence: number) => {
    const signed = await signAction(
      agentSigner,
      buildAction("BackupRecord", deployment, {
        agentId,
        sequence,
        ciphertextHash: hre.ethers.keccak256(hre.ethers.toUtf8Bytes(`blob ${sequence}`)),
        cid,
        deadline: deadlineIn(3600, await latestTimestamp()),
      }),
    );
    const m = signed.message;
    return gasOf(
      registry
        .connect(relayer)
        .recordBackupBySig(agentId, sequence, m.ciphertextHash as string, cid, m.deadline as bigint, signed.signature),
    );
  };
  await backup(1);
  out.push({
    name: "AgentRegistry.recordBackupBySig(later)",
    gas: await backup(2),
    target: 45_000,
    reference: "Olas HashCheckpoint update 28,349, unsigned",
    conditions: "EOA agent signer, relayed, trail already started, 36-byte CIDv1",
  });

  // Resurrection consent grant / revoke, relayed, the nonce word already in use.
  const consent = async (primaryType: "GrantResurrectionConsent" | "RevokeResurrectionConsent", nonce: bigint) => {
    const signed = await signAction(
      agentSigner,
      buildAction(primaryType, deployment, { agentId, nonce, deadline: deadlineIn(3600, await latestTimestamp()) }),
    );
    const fn =
      primaryType === "GrantResurrectionConsent"
        ? registry.connect(relayer).grantResurrectionConsentBySig
        : registry.connect(relayer).revokeResurrectionConsentBySig;
    return gasOf(fn(agentId, nonce, signed.message.deadline as bigint, signed.signature));
  };
  await consent("GrantResurrectionConsent", 0n);
  await consent("RevokeResurrectionConsent", 1n);
  out.push({
    name: "AgentRegistry.grantResurrectionConsentBySig",
    gas: await consent("GrantResurrectionConsent", 2n),
    target: 50_000,
    reference: "EAS revokeOffchain 46,419",
    conditions: "EOA agent signer, relayed, consent changed before (consent nonce 2)",
  });
  out.push({
    name: "AgentRegistry.revokeResurrectionConsentBySig",
    gas: await consent("RevokeResurrectionConsent", 3n),
    target: 40_000,
    reference: "EAS revokeOffchain 46,419",
    conditions: "EOA agent signer, relayed, consent changed before (consent nonce 3)",
  });

  // Unused fixture kept close: deployWithAgent is the common starting point for later parts' scenarios.
  void deployWithAgent;
  return out;
}
