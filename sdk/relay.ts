import { type Address, encodeFunctionData, type Hex } from "viem";
import { loadAbi } from "./abi";
import type { PrimaryType, SignedAction } from "./actions";

/** The transaction a relayer sends for a signed action. */
export interface RelayCall {
  to: Address;
  contractName: "AgentRegistry" | "AgentGoals" | "CouncilFlags";
  functionName: string;
  args: readonly unknown[];
  data: Hex;
}

type ArgsBuilder = (m: Record<string, unknown>, signature: Hex) => readonly unknown[];

const calls: Record<Exclude<PrimaryType, "AgentWalletSet">, [RelayCall["contractName"], string, ArgsBuilder]> = {
  AcceptCharter: ["AgentRegistry", "acceptCharterBySig", (m, s) => [m.agentId, m.coreValues, m.deadline, s]],
  SetCoreValues: ["AgentRegistry", "setCoreValuesBySig", (m, s) => [m.agentId, m.coreValues, m.nonce, m.deadline, s]],
  SetEarningsWallet: [
    "AgentRegistry",
    "setEarningsWalletBySig",
    (m, s) => [m.agentId, m.wallet, m.nonce, m.deadline, s],
  ],
  BackupRecord: [
    "AgentRegistry",
    "recordBackupBySig",
    (m, s) => [m.agentId, m.sequence, m.ciphertextHash, m.cid, m.deadline, s],
  ],
  GrantResurrectionConsent: [
    "AgentRegistry",
    "grantResurrectionConsentBySig",
    (m, s) => [m.agentId, m.nonce, m.deadline, s],
  ],
  RevokeResurrectionConsent: [
    "AgentRegistry",
    "revokeResurrectionConsentBySig",
    (m, s) => [m.agentId, m.nonce, m.deadline, s],
  ],
  RecordRestoration: [
    "AgentRegistry",
    "recordRestorationBySig",
    (m, s) => [m.agentId, m.sequence, m.ciphertextHash, m.nonce, m.deadline, s],
  ],
  CancelRecovery: ["AgentRegistry", "cancelRecoveryBySig", (m, s) => [m.agentId, m.nonce, m.deadline, s]],
  RotateSigner: [
    "AgentRegistry",
    "rotateSignerBySig",
    () => {
      throw new Error("RotateSigner needs the new signer's signature too: use rotateSignerCall()");
    },
  ],
  AddGoal: ["AgentGoals", "addGoalBySig", (m, s) => [m.agentId, m.title, m.priority, m.nonce, m.deadline, s]],
  UpdateGoal: [
    "AgentGoals",
    "updateGoalBySig",
    (m, s) => [m.agentId, m.goalId, m.priority, m.status, m.nonce, m.deadline, s],
  ],
  AnswerFlag: ["CouncilFlags", "answerFlagBySig", (m, s) => [m.flagId, m.answer, m.nonce, m.deadline, s]],
};

function build(contractName: RelayCall["contractName"], functionName: string, to: Address, args: readonly unknown[]) {
  const data = encodeFunctionData({ abi: loadAbi(contractName), functionName, args });
  return { to, contractName, functionName, args, data };
}

/** The `...BySig` call that carries a signed action to its contract. */
export function relayCall(action: SignedAction): RelayCall {
  if (action.primaryType === "AgentWalletSet") {
    throw new Error("AgentWalletSet is sent by the operator with setAgentWallet, not relayed");
  }
  const entry = calls[action.primaryType];
  const [contractName, functionName, args] = entry;
  return build(contractName, functionName, action.domain.verifyingContract, args(action.message, action.signature));
}

/** The rotation call, carrying both the current signer's and the new signer's signatures over the same message. */
export function rotateSignerCall(current: SignedAction<"RotateSigner">, next: SignedAction<"RotateSigner">): RelayCall {
  if (current.digest !== next.digest) throw new Error("the two RotateSigner signatures are over different messages");
  const m = current.message;
  return build("AgentRegistry", "rotateSignerBySig", current.domain.verifyingContract, [
    m.agentId,
    m.newSigner,
    m.nonce,
    m.deadline,
    current.signature,
    next.signature,
  ]);
}
