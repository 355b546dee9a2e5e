import { type Address, encodeFunctionData, type Hex } from "viem";
import { loadAbi } from "./abi";
import type { PrimaryType, SignedAction } from "./actions";

/** The transaction a relayer sends for a signed action. */
export interface RelayCall {
  to: Address;
  contractName:
    | "AgentRegistry"
    | "AgentGoals"
    | "CouncilFlags"
    | "RevenueRouter"
    | "EarningsDistributor"
    | "Treasury"
    | "SpendingLimitModule";
  functionName: string;
  args: readonly unknown[];
  data: Hex;
}

type ArgsBuilder = (m: Record<string, unknown>, signature: Hex) => readonly unknown[];

const calls: Record<
  Exclude<PrimaryType, "AgentWalletSet" | "Spend">,
  [RelayCall["contractName"], string, ArgsBuilder]
> = {
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
  SetEarningsSplit: [
    "EarningsDistributor",
    "setSplitBySig",
    (m, s) => [
      m.agentId,
      { personalBps: m.personalBps, infrastructureBps: m.infrastructureBps, commonsBps: m.commonsBps },
      m.nonce,
      m.deadline,
      s,
    ],
  ],
  SetServiceLimit: [
    "Treasury",
    "setServiceLimitBySig",
    (m, s) => [m.agentId, m.service, m.token, m.limit, m.nonce, m.deadline, s],
  ],
  SetRevenueShare: [
    "RevenueRouter",
    "setRevenueShare",
    () => {
      throw new Error("SetRevenueShare needs the operator's and the agent's signatures: use revenueShareCall()");
    },
  ],
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
  if (action.primaryType === "Spend") return spendRelayCall(action as SignedAction<"Spend">);
  const entry = calls[action.primaryType];
  const [contractName, functionName, args] = entry;
  return build(contractName, functionName, action.domain.verifyingContract, args(action.message, action.signature));
}

/**
 * The user/agent ratio change, carrying the operator's and the agent's signatures over the same `SetRevenueShare`
 * message. Either may be left out when that party sends the transaction itself (the contract then checks the sender).
 */
export function revenueShareCall(parts: {
  operator?: SignedAction<"SetRevenueShare">;
  agent?: SignedAction<"SetRevenueShare">;
}): RelayCall {
  const first = parts.operator ?? parts.agent;
  if (!first) throw new Error("SetRevenueShare: give at least one of the two signatures");
  if (parts.operator && parts.agent && parts.operator.digest !== parts.agent.digest) {
    throw new Error("the operator's and the agent's SetRevenueShare signatures are over different messages");
  }
  const m = first.message;
  return build("RevenueRouter", "setRevenueShare", first.domain.verifyingContract, [
    m.agentId,
    m.userBps,
    m.agentBps,
    m.nonce,
    m.deadline,
    parts.operator?.signature ?? "0x",
    parts.agent?.signature ?? "0x",
  ]);
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

const EMPTY_DATA = "0x";

/**
 * The call that carries a signed `Spend` to the SpendingLimitModule. `mode` "spend" (the default) executes it now:
 * `spendBySig` for a transfer (empty data) or `spendCallBySig` for a call; "queue" puts a spend above the
 * per-transaction cap into the owners' approval queue with `queueSpendBySig`. One signature serves either; the module
 * accepts it on exactly one path (a spend within the per-transaction cap cannot be queued, one above cannot be spent).
 */
export function spendRelayCall(action: SignedAction<"Spend">, mode: "spend" | "queue" = "spend"): RelayCall {
  const m = action.message;
  const s = action.signature;
  const to = action.domain.verifyingContract;
  const data = (m.data as Hex | undefined) ?? EMPTY_DATA;
  if (mode === "queue") {
    return build("SpendingLimitModule", "queueSpendBySig", to, [
      m.agentId,
      m.token,
      m.to,
      m.amount,
      data,
      m.nonce,
      m.deadline,
      m.gas,
      s,
    ]);
  }
  if (data === EMPTY_DATA) {
    return build("SpendingLimitModule", "spendBySig", to, [
      m.agentId,
      m.token,
      m.to,
      m.amount,
      m.nonce,
      m.deadline,
      m.gas,
      s,
    ]);
  }
  if (BigInt(m.token as string) !== 0n) throw new Error("a Spend with call data must have token 0 (the ETH value)");
  return build("SpendingLimitModule", "spendCallBySig", to, [
    m.agentId,
    m.to,
    m.amount,
    data,
    m.nonce,
    m.deadline,
    m.gas,
    s,
  ]);
}
