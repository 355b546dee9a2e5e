import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import type { TransactionResponse } from "ethers";
import {
  buildSpend,
  DIRECT_CALL,
  domainNames,
  fromEthersSigner,
  type SignedAction,
  type SpendRequest,
  signAction,
  spendRelayCall,
  spendTypes,
} from "../../sdk";
import { deploySpending, deploySpending1271, now, type SpendingFixture } from "../fixtures/spending";

/*
 * One behaviour for every agent-signed action of the SpendingLimitModule (a transfer, a call, a queued spend): who
 * may (the agent signer directly, anyone relaying its signature), who may not (another key, the operator's key, the
 * relayer calling directly), every way a signature can be wrong (replayed, expired, tampered, another chain, another
 * contract, another type, an ERC-1271 account that says no), and how a withheld message is dealt with (later nonces
 * still work; the agent invalidates the withheld one). A refused action leaves nothing behind: nonce unused, no event.
 * It runs for an EOA agent signer and for an ERC-1271 one.
 */

/** The Spend fields of the action, without nonce and deadline. */
export type SpendFields = Omit<SpendRequest, "agentId" | "nonce" | "deadline">;

export interface AgentSignedSpendCase {
  name: string;
  /** What the agent signs. */
  fields: (f: SpendingFixture) => SpendFields;
  /** Calldata of the direct call by the agent signer for these fields. */
  directCall: (f: SpendingFixture, fields: SpendFields) => string;
  /** How a relayer carries a signed Spend: the action's path. */
  mode: "spend" | "queue";
  /**
   * Sends and checks the effect: the event with exact arguments, balances or state. `nonce` is the signed nonce, or
   * DIRECT_CALL for a direct call.
   */
  expectEffect: (
    f: SpendingFixture,
    send: () => Promise<TransactionResponse>,
    fields: SpendFields,
    nonce: bigint,
  ) => Promise<void>;
}

/** Nonces in bitmap word 5, so the word/bit split is exercised (n and n+1 share the word). */
const NONCE = (5n << 8n) | 17n;

async function sign(f: SpendingFixture, fields: SpendFields, nonce: bigint, deadline?: bigint) {
  const action = buildSpend(f.deployment, {
    ...fields,
    agentId: f.agentId,
    nonce,
    deadline: deadline ?? BigInt((await now()) + 3600),
  });
  return signAction(f.agentSigner, action);
}

function relayData(signed: SignedAction<"Spend">, mode: "spend" | "queue"): string {
  return spendRelayCall(signed, mode).data;
}

export function shouldBehaveLikeAgentSignedSpend(c: AgentSignedSpendCase): void {
  for (const [kind, fixture] of [
    ["EOA", deploySpending],
    ["ERC-1271", deploySpending1271],
  ] as const) {
    describe(`${c.name}, ${kind} agent signer`, () => {
      async function setUp() {
        const f = await loadFixture(fixture);
        return { f, fields: c.fields(f) };
      }

      /** Expects `send` to revert with the module's `error(args)` and to leave the nonce unused. */
      async function expectRefused(
        f: SpendingFixture,
        send: Promise<unknown>,
        error: string,
        args: unknown[],
        nonce = NONCE,
      ) {
        await expect(send)
          .to.be.revertedWithCustomError(f.module, error)
          .withArgs(...args);
        expect(await f.module.isNonceUsed(f.agentId, nonce)).to.equal(false);
      }

      it("the agent signer acts by a direct call", async () => {
        const { f, fields } = await setUp();
        await c.expectEffect(f, () => f.asAgent(f.moduleAddress, c.directCall(f, fields)), fields, DIRECT_CALL);
      });

      it("anyone relays the agent's signature, which spends its nonce", async () => {
        const { f, fields } = await setUp();
        const signed = await sign(f, fields, NONCE);
        await c.expectEffect(
          f,
          () => f.stranger.sendTransaction({ to: f.moduleAddress, data: relayData(signed, c.mode) }),
          fields,
          NONCE,
        );
        expect(await f.module.isNonceUsed(f.agentId, NONCE)).to.equal(true);
      });

      it("nobody else calls directly: not the operator, not the relayer", async () => {
        const { f, fields } = await setUp();
        for (const caller of [f.operator, f.relayer]) {
          await expect(caller.sendTransaction({ to: f.moduleAddress, data: c.directCall(f, fields) }))
            .to.be.revertedWithCustomError(f.module, "AgentSignedNotAgentSigner")
            .withArgs(f.agentId, caller.address);
        }
      });

      it("a replayed signature is refused", async () => {
        const { f, fields } = await setUp();
        const signed = await sign(f, fields, NONCE);
        await f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(signed, c.mode) });
        await expect(f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(signed, c.mode) }))
          .to.be.revertedWithCustomError(f.module, "AgentSignedNonceUsed")
          .withArgs(f.agentId, NONCE);
      });

      it("an expired signature is refused; one expiring this very second is not", async () => {
        const { f, fields } = await setUp();
        const deadline = BigInt((await now()) + 100);
        const signed = await sign(f, fields, NONCE, deadline);
        await time.setNextBlockTimestamp(deadline + 1n);
        await expectRefused(
          f,
          f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(signed, c.mode) }),
          "AgentSignedExpired",
          [deadline],
        );
        const deadline2 = BigInt((await now()) + 100);
        const onTime = await sign(f, fields, NONCE + 1n, deadline2);
        await time.setNextBlockTimestamp(deadline2);
        await f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(onTime, c.mode) });
        expect(await f.module.isNonceUsed(f.agentId, NONCE + 1n)).to.equal(true);
      });

      it("another key's or the operator's signature is refused", async () => {
        const { f, fields } = await setUp();
        for (const key of [f.stranger, f.operator]) {
          const action = buildSpend(f.deployment, {
            ...fields,
            agentId: f.agentId,
            nonce: NONCE,
            deadline: BigInt((await now()) + 3600),
          });
          const signed = await signAction(await fromEthersSigner(key), action);
          await expectRefused(
            f,
            f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(signed, c.mode) }),
            "AgentSignedInvalidSignature",
            [f.agentId, f.agentAddress],
          );
        }
      });

      it("a signature for another chain, another contract or another type is refused", async () => {
        const { f, fields } = await setUp();
        const good = await sign(f, fields, NONCE);
        const variants: { domain: Record<string, unknown>; primaryType: string }[] = [
          { domain: { ...good.domain, chainId: 1 }, primaryType: "Spend" },
          { domain: { ...good.domain, verifyingContract: f.deployment.registry }, primaryType: "Spend" },
          { domain: { ...good.domain, name: domainNames.registry.name }, primaryType: "Spend" },
          { domain: good.domain, primaryType: "Transfer" },
        ];
        for (const v of variants) {
          const signature = await f.agentSigner.signTypedData({
            domain: v.domain,
            types: { [v.primaryType]: spendTypes.Spend },
            primaryType: v.primaryType,
            message: good.message,
          });
          const forged = { ...good, signature };
          await expectRefused(
            f,
            f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(forged, c.mode) }),
            "AgentSignedInvalidSignature",
            [f.agentId, f.agentAddress],
          );
        }
      });

      it("a relayer cannot change what was signed", async () => {
        const { f, fields } = await setUp();
        const signed = await sign(f, fields, NONCE);
        const tampered: SignedAction<"Spend">[] = [
          { ...signed, message: { ...signed.message, amount: (signed.message.amount as bigint) + 1n } },
          { ...signed, message: { ...signed.message, to: f.relayer.address } },
          { ...signed, message: { ...signed.message, gas: (signed.message.gas as bigint) - 1n } },
        ];
        for (const t of tampered) {
          await expectRefused(
            f,
            f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(t, c.mode) }),
            "AgentSignedInvalidSignature",
            [f.agentId, f.agentAddress],
          );
        }
      });

      it("a withheld message blocks nothing, and the agent can invalidate it", async () => {
        const { f, fields } = await setUp();
        const withheld = await sign(f, fields, NONCE);
        const later = await sign(f, fields, NONCE + 1n);
        await f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(later, c.mode) });
        const word = NONCE >> 8n;
        const mask = 1n << (NONCE & 0xffn);
        await expect(
          f.asAgent(
            f.moduleAddress,
            f.module.interface.encodeFunctionData("invalidateNonces", [f.agentId, word, mask]),
          ),
        )
          .to.emit(f.module, "AgentNoncesInvalidated")
          .withArgs(f.agentId, word, mask);
        await expect(f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(withheld, c.mode) }))
          .to.be.revertedWithCustomError(f.module, "AgentSignedNonceUsed")
          .withArgs(f.agentId, NONCE);
      });

      if (kind === "ERC-1271") {
        it("a smart-account signer that says no is refused", async () => {
          const { f, fields } = await setUp();
          const signed = await sign(f, fields, NONCE);
          await f.wallet!.connect(f.agentKey).setRefusing(true);
          await expectRefused(
            f,
            f.relayer.sendTransaction({ to: f.moduleAddress, data: relayData(signed, c.mode) }),
            "AgentSignedInvalidSignature",
            [f.agentId, f.agentAddress],
          );
        });
      }
    });
  }
}
