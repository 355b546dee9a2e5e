import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { concat, keccak256, TypedDataEncoder, Wallet } from "ethers";
import fc from "fast-check";
import hre from "hardhat";
import { type Address, createPublicClient, custom, decodeFunctionData, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  ActionError,
  actionFromJson,
  actionToJson,
  buildAction,
  type Deployment,
  deadlineIn,
  digestOf,
  domainFor,
  flagTypes,
  fromBytes32Text,
  fromEthersSigner,
  fromViemAccount,
  GoalStatus,
  goalTypes,
  loadAbi,
  type PrimaryType,
  randomNonce,
  registryTypes,
  relayCall,
  rotateSignerCall,
  ShortTextError,
  type SignedAction,
  signAction,
  toBytes32Text,
  verifyAction,
  verifySignedAction,
} from "../../sdk";
import { MockERC1271Wallet__factory } from "../../typechain-types";
import { AGENT_URI, contractAccountSigner, deployIdentity } from "../fixtures/identity";

/*
 * The agent SDK: short texts, typed actions, digests (against ethers and against the contracts), JSON hand-off,
 * off-chain verification, signer adapters and relay calls. Properties print their seed (FC_SEED replays).
 */

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2_147_483_647);
const ALL_TYPES: Record<string, readonly { name: string; type: string }[]> = {
  ...registryTypes,
  ...goalTypes,
  ...flagTypes,
};
const DEPLOYMENT: Deployment = {
  chainId: 84532,
  registry: "0x1111111111111111111111111111111111111111",
  goals: "0x2222222222222222222222222222222222222222",
  flags: "0x3333333333333333333333333333333333333333",
};

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");
/** Strings that survive UTF-8 (no lone surrogates: fast-check's "binary" unit already excludes them). */
const anyText = fc.string({ unit: "binary", minLength: 0, maxLength: 40 });

/** An arbitrary value for an EIP-712 field type used by Covenant. */
function valueFor(type: string): fc.Arbitrary<unknown> {
  if (type === "address") return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b));
  if (type === "bytes32") return fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b));
  if (type === "bytes32[]") {
    return fc.array(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b)),
      { maxLength: 5 },
    );
  }
  if (type === "bytes") return fc.uint8Array({ maxLength: 64 }).map((b) => toHex(b));
  if (type === "string") return fc.string({ unit: "binary", maxLength: 40 });
  const bits = Number(type.slice(4));
  return fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n });
}

const anyAction = fc
  .constantFrom(...(Object.keys(ALL_TYPES) as PrimaryType[]))
  .chain((primaryType) =>
    fc
      .record(Object.fromEntries(ALL_TYPES[primaryType]!.map((f) => [f.name, valueFor(f.type)])))
      .map((message) => buildAction(primaryType, DEPLOYMENT, message)),
  );

describe("SDK", () => {
  before(() => console.log(`      fast-check seed ${SEED} (replay: FC_SEED=${SEED})`));

  describe("short texts (bytes32)", () => {
    it("round-trip every text of 1..32 UTF-8 bytes not ending in NUL (property)", () => {
      fc.assert(
        fc.property(
          anyText.filter((s) => utf8Length(s) >= 1 && utf8Length(s) <= 32 && !s.endsWith("\u0000")),
          (s) => {
            const encoded = toBytes32Text(s);
            expect(encoded).to.match(/^0x[0-9a-f]{64}$/);
            expect(fromBytes32Text(encoded)).to.equal(s);
          },
        ),
        { seed: SEED, numRuns: 500 },
      );
    });

    it("refuses exactly the texts that cannot round-trip: empty, over 32 bytes, ending in NUL (property)", () => {
      fc.assert(
        fc.property(anyText, (s) => {
          const fits = utf8Length(s) >= 1 && utf8Length(s) <= 32 && !s.endsWith("\u0000");
          if (fits) expect(() => toBytes32Text(s)).to.not.throw();
          else expect(() => toBytes32Text(s)).to.throw(ShortTextError);
        }),
        { seed: SEED, numRuns: 500 },
      );
    });

    it("limits: 32 bytes fit (ASCII, 2-byte and 4-byte characters), 33 do not", () => {
      for (const s of ["a".repeat(32), "é".repeat(16), "🚀".repeat(8)]) {
        expect(fromBytes32Text(toBytes32Text(s))).to.equal(s);
      }
      for (const s of ["a".repeat(33), `${"é".repeat(16)}a`, `${"🚀".repeat(8)}a`]) {
        expect(() => toBytes32Text(s)).to.throw(ShortTextError, "at most 32 fit");
      }
      expect(() => toBytes32Text("")).to.throw(ShortTextError, "text is empty");
      expect(() => toBytes32Text("a\u0000")).to.throw(ShortTextError, "NUL");
      expect(fromBytes32Text(`0x${"00".repeat(32)}`)).to.equal("");
    });

    it("texts whose last byte ends in a zero hex digit decode exactly (regression: nibble trimming)", () => {
      for (const s of ["Earn 10", "ap", "P", "trailing space ", "user@", "a\u0000b"]) {
        expect(fromBytes32Text(toBytes32Text(s))).to.equal(s);
      }
    });
  });

  describe("buildAction", () => {
    it("refuses a missing field, naming it", () => {
      expect(() => buildAction("SetCoreValues", DEPLOYMENT, { agentId: 1, coreValues: [], deadline: 1 })).to.throw(
        ActionError,
        "SetCoreValues: missing field nonce",
      );
    });

    it("refuses an unknown field, naming it", () => {
      expect(() =>
        buildAction("CancelRecovery", DEPLOYMENT, { agentId: 1, nonce: 1, deadline: 1, newSigner: "0x" }),
      ).to.throw(ActionError, "CancelRecovery: unknown field newSigner");
    });

    it("refuses an unknown action type and a deployment without the verifying contract", () => {
      expect(() => buildAction("MintMoney" as PrimaryType, DEPLOYMENT, {})).to.throw(
        ActionError,
        "unknown action MintMoney",
      );
      const registryOnly = { chainId: 1, registry: DEPLOYMENT.registry };
      expect(() =>
        buildAction("AddGoal", registryOnly, {
          agentId: 1,
          title: toBytes32Text("x"),
          priority: 1,
          nonce: 1,
          deadline: 1,
        }),
      ).to.throw(ActionError, "the deployment has no goals address for AddGoal");
    });

    it("normalises integer fields to bigint and takes the domain of the verifying contract", () => {
      const action = buildAction("UpdateGoal", DEPLOYMENT, {
        agentId: 3,
        goalId: "4",
        priority: 5,
        status: GoalStatus.Done,
        nonce: 6n,
        deadline: 7,
      });
      expect(action.message).to.deep.equal({
        agentId: 3n,
        goalId: 4n,
        priority: 5n,
        status: 2n,
        nonce: 6n,
        deadline: 7n,
      });
      expect(action.domain).to.deep.equal({
        name: "Covenant AgentGoals",
        version: "1",
        chainId: 84532,
        verifyingContract: DEPLOYMENT.goals,
      });
      expect(domainFor("AnswerFlag", DEPLOYMENT).verifyingContract).to.equal(DEPLOYMENT.flags);
      expect(domainFor("BackupRecord", DEPLOYMENT).name).to.equal("ERC8004IdentityRegistry");
    });
  });

  describe("digestOf", () => {
    it("equals ethers' TypedDataEncoder.hash for every action type (property)", () => {
      fc.assert(
        fc.property(anyAction, (action) => {
          const types = { [action.primaryType]: [...(action.types[action.primaryType] ?? [])] };
          expect(digestOf(action)).to.equal(TypedDataEncoder.hash(action.domain, types, action.message));
        }),
        { seed: SEED, numRuns: 300 },
      );
    });

    it("equals the contracts' _hashTypedDataV4: every signed action type, relayed through the SDK, is accepted", async () => {
      const f = await loadFixture(deployIdentity);
      const { registry, goals, flags, operator, council, relayer, deployment, newAgentKey } = f;
      const agent = fromViemAccount(privateKeyToAccount(generatePrivateKey()));
      const agentId = 0n;
      await registry.connect(operator)["register(string)"](AGENT_URI);
      await registry.connect(operator).offerCharter(agentId, agent.address);
      const deadline = BigInt((await time.latest()) + 3600);
      const send = async (type: PrimaryType, message: Record<string, unknown>) => {
        const action = await signAction(agent, buildAction(type, deployment, { agentId, ...message, deadline }));
        const types = { [type]: [...(action.types[type] ?? [])] };
        expect(action.digest).to.equal(TypedDataEncoder.hash(action.domain, types, action.message));
        const call = relayCall(action);
        const receipt = await (await relayer.sendTransaction({ to: call.to, data: call.data })).wait();
        expect(receipt?.status, type).to.equal(1);
        return action;
      };
      const accepted = await send("AcceptCharter", { signer: agent.address, coreValues: [toBytes32Text("Serve")] });
      expect((await registry.consentRecord(agentId)).consentDigest).to.equal(digestOf(accepted));
      await send("SetCoreValues", { coreValues: [toBytes32Text("Serve better")], nonce: 1 });
      await send("SetEarningsWallet", { wallet: relayer.address, nonce: 2 });
      const backup = await send("BackupRecord", { sequence: 1, ciphertextHash: `0x${"ab".repeat(32)}`, cid: "0x0155" });
      const domain = await registry.eip712Domain();
      const separator = TypedDataEncoder.hashDomain({
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
      });
      const structHash = await registry.backupRecordHash(agentId, 1, `0x${"ab".repeat(32)}`, "0x0155", deadline);
      expect(keccak256(concat(["0x1901", separator, structHash]))).to.equal(backup.digest);
      await send("GrantResurrectionConsent", { nonce: 0 });
      await send("RecordRestoration", { sequence: 1, ciphertextHash: `0x${"ab".repeat(32)}`, nonce: 3 });
      await send("RevokeResurrectionConsent", { nonce: 1 });
      await registry.connect(operator).proposeRecovery(agentId, newAgentKey.address);
      await send("CancelRecovery", { nonce: 4 });
      await send("AddGoal", { title: toBytes32Text("Ship"), priority: 2, nonce: 1 });
      await send("UpdateGoal", { goalId: 0, priority: 3, status: GoalStatus.Done, nonce: 2 });
      await flags.connect(council).flag(agentId, "check");
      await send("AnswerFlag", { flagId: 0, answer: "checked", nonce: 1 });
      expect((await goals.goal(agentId, 0)).status).to.equal(BigInt(GoalStatus.Done));

      const rotation = buildAction("RotateSigner", deployment, {
        agentId,
        newSigner: newAgentKey.address,
        nonce: 5,
        deadline,
      });
      const call = rotateSignerCall(
        await signAction(agent, rotation),
        await signAction(await fromEthersSigner(newAgentKey), rotation),
      );
      await relayer.sendTransaction({ to: call.to, data: call.data });
      expect(await registry.agentSigner(agentId)).to.equal(newAgentKey.address);
    });
  });

  describe("actionToJson / actionFromJson", () => {
    it("round-trip every action, signed, with bigints restored (property)", async () => {
      const signer = fromViemAccount(privateKeyToAccount(generatePrivateKey()));
      await fc.assert(
        fc.asyncProperty(anyAction, async (action) => {
          const signedAction = await signAction(signer, action);
          const back = actionFromJson(actionToJson(signedAction));
          expect(back).to.deep.equal(signedAction);
          expect(digestOf(back)).to.equal(signedAction.digest);
        }),
        { seed: SEED, numRuns: 100 },
      );
    });

    it("refuses JSON without the type definition of its primary type", () => {
      const json = JSON.stringify({ primaryType: "AddGoal", types: {}, message: {}, domain: {} });
      expect(() => actionFromJson(json)).to.throw(ActionError, "JSON has no type definition for AddGoal");
    });
  });

  describe("verifyAction", () => {
    const key = privateKeyToAccount(generatePrivateKey());
    const other = privateKeyToAccount(generatePrivateKey());
    const action = buildAction("SetEarningsWallet", DEPLOYMENT, {
      agentId: 1,
      wallet: other.address,
      nonce: 9,
      deadline: 2_000_000_000,
    });

    it("true for the signer's signature over exactly this action", async () => {
      const s = await signAction(fromViemAccount(key), action);
      expect(await verifyAction(action, s.signature, key.address)).to.equal(true);
      expect(await verifySignedAction(s)).to.equal(true);
    });

    it("false for another signer, a changed field, another chain, or a malformed signature (no throw)", async () => {
      const s = await signAction(fromViemAccount(key), action);
      expect(await verifyAction(action, s.signature, other.address)).to.equal(false);
      const changed = { ...action, message: { ...action.message, nonce: 10n } };
      expect(await verifyAction(changed, s.signature, key.address)).to.equal(false);
      const otherChain = { ...action, domain: { ...action.domain, chainId: 1 } };
      expect(await verifyAction(otherChain, s.signature, key.address)).to.equal(false);
      expect(await verifyAction(action, "0x1234", key.address)).to.equal(false);
      expect(await verifySignedAction({ ...s, signer: other.address })).to.equal(false);
    });

    it("with a client, asks an ERC-1271 account exactly as the contract does: yes, then no", async () => {
      const { deployer, agentKey } = await loadFixture(deployIdentity);
      const wallet = await new MockERC1271Wallet__factory(deployer).deploy(agentKey.address);
      const account = (await wallet.getAddress()) as Address;
      const client = createPublicClient({ transport: custom(hre.network.provider) });
      const s = await signAction(contractAccountSigner(account, await fromEthersSigner(agentKey)), action);
      expect(await verifyAction(action, s.signature, account)).to.equal(false); // no client: ecrecover only
      expect(await verifyAction(action, s.signature, account, client)).to.equal(true);
      await wallet.connect(agentKey).setAccepting(false);
      expect(await verifyAction(action, s.signature, account, client)).to.equal(false);
    });
  });

  describe("signer adapters", () => {
    it("a viem account and an ethers wallet on the same key sign identically", async () => {
      const pk = generatePrivateKey();
      const viemSigner = fromViemAccount(privateKeyToAccount(pk));
      const ethersSigner = await fromEthersSigner(new Wallet(pk));
      expect(viemSigner.address).to.equal(ethersSigner.address);
      for (const type of ["AcceptCharter", "BackupRecord", "AnswerFlag"] as const) {
        const action = fc.sample(
          anyAction.filter((a) => a.primaryType === type),
          { seed: SEED, numRuns: 1 },
        )[0]!;
        expect((await signAction(viemSigner, action)).signature).to.equal(
          (await signAction(ethersSigner, action)).signature,
        );
      }
    });
  });

  describe("relay calls", () => {
    const signer = fromViemAccount(privateKeyToAccount(generatePrivateKey()));

    it("target the verifying contract with the BySig function and the signed arguments", async () => {
      const s = await signAction(
        signer,
        buildAction("AnswerFlag", DEPLOYMENT, { agentId: 4, flagId: 2, answer: "ok", nonce: 3, deadline: 99 }),
      );
      const call = relayCall(s);
      expect([call.to, call.contractName, call.functionName]).to.deep.equal([
        DEPLOYMENT.flags,
        "CouncilFlags",
        "answerFlagBySig",
      ]);
      const decoded = decodeFunctionData({ abi: loadAbi("CouncilFlags"), data: call.data });
      expect(decoded.functionName).to.equal("answerFlagBySig");
      expect(decoded.args).to.deep.equal([2n, "ok", 3n, 99n, s.signature]);
    });

    it("refuse AgentWalletSet (sent by the operator) and RotateSigner (needs two signatures)", async () => {
      const wallet = await signAction(
        signer,
        buildAction("AgentWalletSet", DEPLOYMENT, {
          agentId: 1,
          newWallet: signer.address,
          owner: signer.address,
          deadline: 1,
        }),
      );
      expect(() => relayCall(wallet)).to.throw(
        "AgentWalletSet is sent by the operator with setAgentWallet, not relayed",
      );
      const rotation = buildAction("RotateSigner", DEPLOYMENT, {
        agentId: 1,
        newSigner: signer.address,
        nonce: 1,
        deadline: 1,
      });
      const a = await signAction(signer, rotation);
      expect(() => relayCall(a)).to.throw("use rotateSignerCall()");
      const b = await signAction(signer, { ...rotation, message: { ...rotation.message, nonce: 2n } });
      expect(() => rotateSignerCall(a, b as SignedAction<"RotateSigner">)).to.throw("over different messages");
    });
  });

  it("randomNonce fits 64 bits; deadlineIn counts from the given time", () => {
    for (let i = 0; i < 50; i++) {
      const n = randomNonce();
      expect(n >= 0n && n < 2n ** 64n).to.equal(true);
    }
    expect(deadlineIn(600, 1_000)).to.equal(1_600n);
  });
});
