import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import type { BaseContract, TransactionResponse } from "ethers";
import type { Address, Hex } from "viem";
import {
  type AgentSigner,
  actionContract,
  buildAction,
  type Deployment,
  flagTypes,
  fromEthersSigner,
  goalTypes,
  type PrimaryType,
  registryTypes,
  relayCall,
  signAction,
} from "../../sdk";
import {
  CORE_VALUES,
  deployWithOffered1271Agent,
  deployWithOfferedEoaAgent,
  type OfferedAgentFixture,
} from "../fixtures/identity";
import { texts } from "./helpers";

/*
 * One behaviour for every agent-signed action of AgentRegistry, AgentGoals and CouncilFlags: who may (the agent
 * signer directly, anyone relaying its signature), who may not, and every way a signature can be wrong (replayed,
 * expired, another key, the operator's key, another chain, another contract, another action type, an ERC-1271
 * account that says no), plus how a withheld message is dealt with under the action's replay guard. Each test file
 * describes its actions as {@link AgentSignedActionCase}s; the checks run for an EOA and an ERC-1271 agent signer.
 */

export type RelayedType = Exclude<PrimaryType, "AgentWalletSet">;
export type Message = Record<string, unknown>;

/** The fixture an action runs in: an agent (id 1) with its charter offered or accepted, plus the case's own state. */
export type ActionEnv = OfferedAgentFixture & { state: Record<string, unknown> };

/** How an action reached the contract, for the effect check. */
export interface Sent {
  via: "direct" | "relay";
  /** msg.sender as the contract sees it. */
  sender: Address;
  /** The message as signed (direct calls: the same fields; AcceptCharter and BackupRecord record deadline 0). */
  message: Message;
}

export interface AgentSignedActionCase {
  primaryType: RelayedType;
  /** The charter is accepted before the action (default); false for AcceptCharter itself. */
  accepted?: boolean;
  /** Extra state the action needs (a goal, a flag, a pending recovery …); may write `env.state`. */
  setup?: (env: ActionEnv) => Promise<void>;
  /** The message without `deadline`, and without `nonce` when the guard is the nonce bitmap. */
  fields: (env: ActionEnv) => Promise<Message> | Message;
  /** What stops a replay: the unordered nonce bitmap, the consent nonce, the backup sequence, or acceptance once. */
  guard: "nonce" | "consentNonce" | "sequence" | "once";
  /** Calldata of the direct (unsigned) call for this message. */
  directCall: (env: ActionEnv, message: Message) => Promise<string> | string;
  /** Calldata of the relayed call carrying `signature` (default: the SDK's relayCall). */
  relayCall?: (env: ActionEnv, message: Message, signature: Hex) => Promise<string>;
  /** Sends with `send()` and asserts the effect: the event with exact arguments and the stored state. */
  expectEffect: (env: ActionEnv, send: () => Promise<TransactionResponse>, sent: Sent) => Promise<void>;
  /** A type with the same fields (optionally renamed) whose signature must not pass for this one. */
  otherType: { primaryType: string; rename?: Record<string, string> };
  /** Parties other than the signer that may also make the direct call. */
  directAlsoAllowed?: ("operator" | "council")[];
  /** Error (args: agentId, caller) for a direct call by anyone else; default the contract's NotAgentSigner. */
  directRefusal?: string;
  /** Another action with the nonce bitmap of the same contract, relayed ahead of a withheld one. */
  filler?: (env: ActionEnv) => { primaryType: RelayedType; fields: Message };
}

type ContractKind = "registry" | "goals" | "flags";

const ERRORS: Record<ContractKind, { nonceUsed: string; expired: string; invalid: string; notSigner: string }> = {
  registry: {
    nonceUsed: "AgentRegistryNonceUsed",
    expired: "AgentRegistryExpiredSignature",
    invalid: "AgentRegistryInvalidSignature",
    notSigner: "AgentRegistryNotAgentSigner",
  },
  goals: {
    nonceUsed: "AgentSignedNonceUsed",
    expired: "AgentSignedExpired",
    invalid: "AgentSignedInvalidSignature",
    notSigner: "AgentSignedNotAgentSigner",
  },
  flags: {
    nonceUsed: "AgentSignedNonceUsed",
    expired: "AgentSignedExpired",
    invalid: "AgentSignedInvalidSignature",
    notSigner: "AgentSignedNotAgentSigner",
  },
};

/** Nonces in bitmap word 3, so the word/bit split is exercised (n and n+1 share the word). */
const NONCE = (3n << 8n) | 41n;

function contractOf(c: AgentSignedActionCase): ContractKind {
  const kind = actionContract[c.primaryType];
  // The SDK also knows the treasury part's actions; this behaviour covers the identity part's.
  if (kind !== "registry" && kind !== "goals" && kind !== "flags") {
    throw new Error(`${c.primaryType} is verified by the ${kind}, not by the identity part`);
  }
  return kind;
}

function target(env: ActionEnv, kind: ContractKind): BaseContract {
  return kind === "registry" ? env.registry : kind === "goals" ? env.goals : env.flags;
}

function addressOf(deployment: Deployment, kind: ContractKind): Address {
  const address = kind === "registry" ? deployment.registry : kind === "goals" ? deployment.goals : deployment.flags;
  if (!address) throw new Error(`no ${kind} in deployment`);
  return address;
}

function hasNonceField(primaryType: RelayedType): boolean {
  return buildActionTypes(primaryType).some((f) => f.name === "nonce");
}

function buildActionTypes(primaryType: RelayedType): readonly { name: string; type: string }[] {
  const all: Record<string, readonly { name: string; type: string }[]> = {
    ...registryTypes,
    ...goalTypes,
    ...flagTypes,
  };
  const found = all[primaryType];
  if (!found) throw new Error(`unknown type ${primaryType}`);
  return found;
}

/** Signs `message` as `primaryType` under `deployment`'s domain for the action's contract. */
async function signFor(signer: AgentSigner, primaryType: RelayedType, deployment: Deployment, message: Message) {
  return (await signAction(signer, buildAction(primaryType, deployment, message))).signature;
}

export function shouldBehaveLikeAgentSignedAction(c: AgentSignedActionCase): void {
  const kindOfContract = contractOf(c);
  const errors = ERRORS[kindOfContract];

  for (const signerKind of ["eoa", "erc1271"] as const) {
    describe(`${c.primaryType}, ${signerKind === "eoa" ? "EOA" : "ERC-1271"} agent signer`, () => {
      const base = signerKind === "eoa" ? deployWithOfferedEoaAgent : deployWithOffered1271Agent;

      async function actionFixture(): Promise<ActionEnv> {
        const env: ActionEnv = { ...(await loadFixture(base)), state: {} };
        if (c.accepted !== false) {
          const data = env.registry.interface.encodeFunctionData("acceptCharter", [env.agentId, texts(...CORE_VALUES)]);
          await env.asAgent(env.deployment.registry, data);
        }
        await c.setup?.(env);
        return env;
      }

      const contract = (env: ActionEnv) => target(env, kindOfContract);
      const to = (env: ActionEnv) => addressOf(env.deployment, kindOfContract);

      async function message(env: ActionEnv, opts: { nonce?: bigint; deadline?: bigint } = {}): Promise<Message> {
        const fields = await c.fields(env);
        const m: Message = { ...fields, deadline: opts.deadline ?? BigInt((await time.latest()) + 3600) };
        if (c.guard === "nonce" && hasNonceField(c.primaryType)) m.nonce = opts.nonce ?? NONCE;
        return m;
      }

      async function relayData(env: ActionEnv, m: Message, signature: Hex): Promise<string> {
        if (c.relayCall) return c.relayCall(env, m, signature);
        const action = buildAction(c.primaryType, env.deployment, m);
        return relayCall({ ...action, signature, signer: env.signerAddress, digest: "0x" }).data;
      }

      const sendRelay = async (env: ActionEnv, from: HardhatEthersSigner, m: Message, signature: Hex) =>
        from.sendTransaction({ to: to(env), data: await relayData(env, m, signature) });

      async function expectInvalid(env: ActionEnv, m: Message, signature: Hex) {
        await expect(sendRelay(env, env.stranger, m, signature))
          .to.be.revertedWithCustomError(contract(env), errors.invalid)
          .withArgs(env.agentId, env.signerAddress);
      }

      describe("who may", () => {
        it("anyone relaying the agent signer's signature (a stranger here): takes effect", async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, m);
          await c.expectEffect(env, () => sendRelay(env, env.stranger, m, signature), {
            via: "relay",
            sender: env.stranger.address as Address,
            message: m,
          });
        });

        it("the agent signer by a direct call: takes effect", async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          const data = await c.directCall(env, m);
          await c.expectEffect(env, () => env.asAgent(to(env), data), {
            via: "direct",
            sender: env.signerAddress,
            message: m,
          });
        });

        for (const party of c.directAlsoAllowed ?? []) {
          it(`the ${party} by a direct call (allowed for this action): takes effect`, async () => {
            const env = await loadFixture(actionFixture);
            const m = await message(env);
            const data = await c.directCall(env, m);
            const who = env[party];
            await c.expectEffect(env, () => who.sendTransaction({ to: to(env), data }), {
              via: "direct",
              sender: who.address as Address,
              message: m,
            });
          });
        }

        it("a signature valid through its deadline second", async () => {
          const env = await loadFixture(actionFixture);
          const deadline = BigInt((await time.latest()) + 100);
          const m = await message(env, { deadline });
          const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, m);
          await time.setNextBlockTimestamp(deadline);
          await c.expectEffect(env, () => sendRelay(env, env.relayer, m, signature), {
            via: "relay",
            sender: env.relayer.address as Address,
            message: m,
          });
        });
      });

      describe("who may not (direct call)", () => {
        const refused = (["operator", "council", "relayer", "stranger", "deployer"] as const).filter(
          (p) => !(c.directAlsoAllowed as readonly string[] | undefined)?.includes(p),
        );
        const parties: string[] = signerKind === "erc1271" ? [...refused, "agentKey"] : [...refused];
        for (const party of parties) {
          const label =
            party === "agentKey" ? "the account's owner key calling itself (not the signer)" : `the ${party}`;
          it(`${label}: ${c.directRefusal ?? errors.notSigner}(agentId, caller)`, async () => {
            const env = await loadFixture(actionFixture);
            const caller = env[party as "operator"];
            const m = await message(env);
            const data = await c.directCall(env, m);
            await expect(caller.sendTransaction({ to: to(env), data }))
              .to.be.revertedWithCustomError(contract(env), c.directRefusal ?? errors.notSigner)
              .withArgs(env.agentId, caller.address);
          });
        }
      });

      describe("who may not (relayed signature)", () => {
        it(`a replayed signature: ${replayError(c, errors)}`, async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, m);
          await sendRelay(env, env.relayer, m, signature);
          const replay = expect(sendRelay(env, env.stranger, m, signature)).to.be.revertedWithCustomError(
            c.guard === "nonce" ? contract(env) : env.registry,
            replayError(c, errors),
          );
          if (c.guard === "nonce") await replay.withArgs(env.agentId, m.nonce);
          else if (c.guard === "consentNonce")
            await replay.withArgs(env.agentId, m.nonce, BigInt(m.nonce as bigint) + 1n);
          else if (c.guard === "sequence") await replay.withArgs(env.agentId, m.sequence, m.sequence);
          else await replay.withArgs(env.agentId);
        });

        it(`an expired signature (one second past its deadline): ${errors.expired}(deadline)`, async () => {
          const env = await loadFixture(actionFixture);
          const deadline = BigInt((await time.latest()) + 100);
          const m = await message(env, { deadline });
          const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, m);
          await time.setNextBlockTimestamp(deadline + 1n);
          await expect(sendRelay(env, env.relayer, m, signature))
            .to.be.revertedWithCustomError(contract(env), errors.expired)
            .withArgs(deadline);
        });

        it(`signed by another key (a stranger's): ${errors.invalid}(agentId, signer)`, async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          await expectInvalid(
            env,
            m,
            await signFor(await fromEthersSigner(env.stranger), c.primaryType, env.deployment, m),
          );
        });

        it(`signed by the operator's key: ${errors.invalid}(agentId, signer)`, async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          await expectInvalid(
            env,
            m,
            await signFor(await fromEthersSigner(env.operator), c.primaryType, env.deployment, m),
          );
        });

        it(`signed for another chain (chainId 1 in the domain): ${errors.invalid}`, async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          await expectInvalid(
            env,
            m,
            await signFor(env.agentSigner, c.primaryType, { ...env.deployment, chainId: 1 }, m),
          );
        });

        it(`signed for another contract (a second deployment's address in the domain): ${errors.invalid}`, async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          await expectInvalid(env, m, await signFor(env.agentSigner, c.primaryType, env.otherDeployment, m));
        });

        it(`a signature of ${c.otherType.primaryType} with the same fields: ${errors.invalid}`, async () => {
          const env = await loadFixture(actionFixture);
          const m = await message(env);
          const rename = c.otherType.rename ?? {};
          const fields = buildActionTypes(c.primaryType).map((f) => ({ name: rename[f.name] ?? f.name, type: f.type }));
          const otherMessage: Message = {};
          for (const [k, v] of Object.entries(m)) otherMessage[rename[k] ?? k] = v;
          const action = buildAction(c.primaryType, env.deployment, m);
          const signature = await env.agentSigner.signTypedData({
            domain: action.domain,
            types: { [c.otherType.primaryType]: fields },
            primaryType: c.otherType.primaryType,
            message: otherMessage,
          });
          await expectInvalid(env, m, signature);
        });

        if (signerKind === "erc1271") {
          it(`the agent's ERC-1271 account says no: ${errors.invalid}(agentId, account)`, async () => {
            const env = await loadFixture(actionFixture);
            const m = await message(env);
            const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, m);
            await env.wallet!.connect(env.agentKey).setAccepting(false);
            await expectInvalid(env, m, signature);
          });
        }
      });

      describe("a withheld message", () => {
        if (c.guard === "nonce") {
          it("blocks nothing: nonce n+1 executes first, then n still executes", async () => {
            const env = await loadFixture(actionFixture);
            const withheld = await message(env, { nonce: NONCE });
            const withheldSig = await signFor(env.agentSigner, c.primaryType, env.deployment, withheld);

            const filler = c.filler?.(env) ?? defaultFiller(env, kindOfContract);
            const later: Message = { ...filler.fields, nonce: NONCE + 1n, deadline: withheld.deadline };
            const laterSig = await signFor(env.agentSigner, filler.primaryType, env.deployment, later);
            const laterCall = relayCall({
              ...buildAction(filler.primaryType, env.deployment, later),
              signature: laterSig,
              signer: env.signerAddress,
              digest: "0x",
            });
            await env.relayer.sendTransaction({ to: laterCall.to, data: laterCall.data });
            const bitmap = contract(env) as unknown as { isNonceUsed(a: bigint, n: bigint): Promise<boolean> };
            expect(await bitmap.isNonceUsed(env.agentId, NONCE + 1n)).to.equal(true);
            expect(await bitmap.isNonceUsed(env.agentId, NONCE)).to.equal(false);

            await c.expectEffect(env, () => sendRelay(env, env.stranger, withheld, withheldSig), {
              via: "relay",
              sender: env.stranger.address as Address,
              message: withheld,
            });
            expect(await bitmap.isNonceUsed(env.agentId, NONCE)).to.equal(true);
          });

          it(`or the agent invalidates its nonce: the withheld message then fails with ${errors.nonceUsed}`, async () => {
            const env = await loadFixture(actionFixture);
            const withheld = await message(env, { nonce: NONCE });
            const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, withheld);
            const word = NONCE >> 8n;
            const mask = 1n << (NONCE & 255n);
            const iface = (contract(env) as unknown as { interface: typeof env.registry.interface }).interface;
            const invalidated = kindOfContract === "registry" ? "NoncesInvalidated" : "AgentNoncesInvalidated";
            await expect(env.asAgent(to(env), iface.encodeFunctionData("invalidateNonces", [env.agentId, word, mask])))
              .to.emit(contract(env), invalidated)
              .withArgs(env.agentId, word, mask);
            await expect(sendRelay(env, env.relayer, withheld, signature))
              .to.be.revertedWithCustomError(contract(env), errors.nonceUsed)
              .withArgs(env.agentId, NONCE);
          });
        } else if (c.guard === "sequence") {
          it("is superseded by a later sequence: AgentRegistryStaleBackup(agentId, sequence, latest)", async () => {
            const env = await loadFixture(actionFixture);
            const withheld = await message(env);
            const withheldSig = await signFor(env.agentSigner, c.primaryType, env.deployment, withheld);
            const later = { ...withheld, sequence: Number(withheld.sequence) + 1 };
            const laterSig = await signFor(env.agentSigner, c.primaryType, env.deployment, later);
            await c.expectEffect(env, () => sendRelay(env, env.relayer, later, laterSig), {
              via: "relay",
              sender: env.relayer.address as Address,
              message: later,
            });
            await expect(sendRelay(env, env.stranger, withheld, withheldSig))
              .to.be.revertedWithCustomError(env.registry, "AgentRegistryStaleBackup")
              .withArgs(env.agentId, withheld.sequence, later.sequence);
          });
        } else if (c.guard === "consentNonce") {
          it("blocks nothing: the agent acts directly, and the withheld message is then stale", async () => {
            const env = await loadFixture(actionFixture);
            const withheld = await message(env);
            const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, withheld);
            await c.expectEffect(env, async () => env.asAgent(to(env), await c.directCall(env, withheld)), {
              via: "direct",
              sender: env.signerAddress,
              message: withheld,
            });
            await expect(sendRelay(env, env.relayer, withheld, signature))
              .to.be.revertedWithCustomError(env.registry, "AgentRegistryStaleConsentNonce")
              .withArgs(env.agentId, withheld.nonce, BigInt(withheld.nonce as bigint) + 1n);
          });
        } else {
          it("blocks nothing: the agent accepts directly, and the withheld acceptance is then void", async () => {
            const env = await loadFixture(actionFixture);
            const withheld = await message(env);
            const signature = await signFor(env.agentSigner, c.primaryType, env.deployment, withheld);
            await c.expectEffect(env, async () => env.asAgent(to(env), await c.directCall(env, withheld)), {
              via: "direct",
              sender: env.signerAddress,
              message: withheld,
            });
            await expect(sendRelay(env, env.relayer, withheld, signature))
              .to.be.revertedWithCustomError(env.registry, "AgentRegistryCharterAlreadyAccepted")
              .withArgs(env.agentId);
          });
        }
      });
    });
  }
}

function replayError(c: AgentSignedActionCase, errors: (typeof ERRORS)[ContractKind]): string {
  if (c.guard === "nonce") return errors.nonceUsed;
  if (c.guard === "consentNonce") return "AgentRegistryStaleConsentNonce";
  if (c.guard === "sequence") return "AgentRegistryStaleBackup";
  return "AgentRegistryCharterAlreadyAccepted";
}

function defaultFiller(env: ActionEnv, kind: ContractKind): { primaryType: RelayedType; fields: Message } {
  if (kind === "registry") {
    return { primaryType: "SetEarningsWallet", fields: { agentId: env.agentId, wallet: env.operator2.address } };
  }
  if (kind === "goals") {
    return { primaryType: "AddGoal", fields: { agentId: env.agentId, title: texts("Filler goal")[0], priority: 1 } };
  }
  throw new Error("a CouncilFlags case must give its own filler (a second open flag)");
}
