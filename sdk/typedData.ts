/**
 * EIP-712 types of every agent-signed action in Covenant, exactly as the contracts hash them.
 * One primary type per action; each carries `agentId`, a deadline and (except AcceptCharter and BackupRecord,
 * whose replay guards are structural) an unordered nonce.
 */
export const registryTypes = {
  AgentWalletSet: [
    { name: "agentId", type: "uint256" },
    { name: "newWallet", type: "address" },
    { name: "owner", type: "address" },
    { name: "deadline", type: "uint256" },
  ],
  AcceptCharter: [
    { name: "agentId", type: "uint256" },
    { name: "signer", type: "address" },
    { name: "coreValues", type: "bytes32[]" },
    { name: "deadline", type: "uint256" },
  ],
  SetCoreValues: [
    { name: "agentId", type: "uint256" },
    { name: "coreValues", type: "bytes32[]" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  SetEarningsWallet: [
    { name: "agentId", type: "uint256" },
    { name: "wallet", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RotateSigner: [
    { name: "agentId", type: "uint256" },
    { name: "newSigner", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  BackupRecord: [
    { name: "agentId", type: "uint256" },
    { name: "sequence", type: "uint32" },
    { name: "ciphertextHash", type: "bytes32" },
    { name: "cid", type: "bytes" },
    { name: "deadline", type: "uint256" },
  ],
  GrantResurrectionConsent: [
    { name: "agentId", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RevokeResurrectionConsent: [
    { name: "agentId", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RecordRestoration: [
    { name: "agentId", type: "uint256" },
    { name: "sequence", type: "uint32" },
    { name: "ciphertextHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  CancelRecovery: [
    { name: "agentId", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const goalTypes = {
  AddGoal: [
    { name: "agentId", type: "uint256" },
    { name: "title", type: "bytes32" },
    { name: "priority", type: "uint16" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  UpdateGoal: [
    { name: "agentId", type: "uint256" },
    { name: "goalId", type: "uint256" },
    { name: "priority", type: "uint16" },
    { name: "status", type: "uint8" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const flagTypes = {
  AnswerFlag: [
    { name: "agentId", type: "uint256" },
    { name: "flagId", type: "uint256" },
    { name: "answer", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** The treasury part: the user/agent ratio (operator and agent sign the same message), inner splits, service limits. */
export const treasuryTypes = {
  SetRevenueShare: [
    { name: "agentId", type: "uint256" },
    { name: "userBps", type: "uint16" },
    { name: "agentBps", type: "uint16" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  SetEarningsSplit: [
    { name: "agentId", type: "uint256" },
    { name: "personalBps", type: "uint16" },
    { name: "infrastructureBps", type: "uint16" },
    { name: "commonsBps", type: "uint16" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  SetServiceLimit: [
    { name: "agentId", type: "uint256" },
    { name: "service", type: "bytes32" },
    { name: "token", type: "address" },
    { name: "limit", type: "uint96" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/**
 * The agent's spend through its Safe (SpendingLimitModule): a transfer (`data` empty; `token` zero for ETH) or a call
 * (`data` the call data, `token` zero, `amount` the ETH value). `gas` is the gas the call is given: the module refuses
 * to start the call with less and forwards about that much.
 */
export const spendTypes = {
  Spend: [
    { name: "agentId", type: "uint256" },
    { name: "token", type: "address" },
    { name: "to", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
    { name: "gas", type: "uint256" },
  ],
} as const;

/**
 * What a Safe's owners approve for a queued spend, under the SpendingLimitModule's domain. Owners sign it wrapped as
 * a Safe message (protocol-kit `createMessage` / `signMessage`), so the Safe's threshold applies. Not an agent action.
 */
export const approveSpendTypes = {
  ApproveSpend: [
    { name: "queueId", type: "uint256" },
    { name: "agentId", type: "uint256" },
    { name: "token", type: "address" },
    { name: "to", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "gas", type: "uint256" },
  ],
} as const;

export type RegistryPrimaryType = keyof typeof registryTypes;
export type GoalPrimaryType = keyof typeof goalTypes;
export type FlagPrimaryType = keyof typeof flagTypes;
export type TreasuryPrimaryType = keyof typeof treasuryTypes;
export type SpendPrimaryType = keyof typeof spendTypes;

/** Which contract verifies each action; its EIP-712 domain is that contract's. */
export type ActionContract = "registry" | "goals" | "flags" | "router" | "distributor" | "treasury" | "spendingLimits";

export const actionContract: Record<
  RegistryPrimaryType | GoalPrimaryType | FlagPrimaryType | TreasuryPrimaryType | SpendPrimaryType,
  ActionContract
> = {
  AgentWalletSet: "registry",
  AcceptCharter: "registry",
  SetCoreValues: "registry",
  SetEarningsWallet: "registry",
  RotateSigner: "registry",
  BackupRecord: "registry",
  GrantResurrectionConsent: "registry",
  RevokeResurrectionConsent: "registry",
  RecordRestoration: "registry",
  CancelRecovery: "registry",
  AddGoal: "goals",
  UpdateGoal: "goals",
  AnswerFlag: "flags",
  SetRevenueShare: "router",
  SetEarningsSplit: "distributor",
  SetServiceLimit: "treasury",
  Spend: "spendingLimits",
};

/** Domain names and versions, as the contracts' constructors set them (ERC-5267 `eip712Domain()` returns them). */
export const domainNames: Record<ActionContract, { name: string; version: string }> = {
  registry: { name: "ERC8004IdentityRegistry", version: "1" },
  goals: { name: "Covenant AgentGoals", version: "1" },
  flags: { name: "Covenant CouncilFlags", version: "1" },
  router: { name: "Covenant RevenueRouter", version: "1" },
  distributor: { name: "Covenant EarningsDistributor", version: "1" },
  treasury: { name: "Covenant Treasury", version: "1" },
  spendingLimits: { name: "Covenant SpendingLimitModule", version: "1" },
};

/** Goal status values as the contract's enum. */
export const GoalStatus = { None: 0, Active: 1, Done: 2, Dropped: 3 } as const;
export type GoalStatusName = keyof typeof GoalStatus;
