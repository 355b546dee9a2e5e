import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { hexlify, toUtf8Bytes, ZeroAddress } from "ethers";
import hre from "hardhat";
import type { Address, Hex } from "viem";
import { type AgentSigner, buildAction, domainNames, fromEthersSigner, signAction } from "../../sdk";
import { AgentRegistry__factory, MockERC1271Wallet__factory } from "../../typechain-types";
import {
  AGENT_URI,
  contractAccountSigner,
  deployIdentity,
  deployWithAgent,
  RECOVERY_DELAY,
} from "../fixtures/identity";
import { plain, texts } from "./helpers";

/*
 * The ERC-8004 identity surface of AgentRegistry: registration, URI, metadata, the owner-set agentWallet and what a
 * token transfer does to it (and to the charter).
 */

const WALLET_KEY = "agentWallet";
const packed = (a: string) => a.toLowerCase() as Hex;

async function walletSignature(
  f: { deployment: Awaited<ReturnType<typeof deployIdentity>>["deployment"] },
  agentId: bigint,
  newWallet: string,
  owner: string,
  deadline: bigint,
  signer: AgentSigner,
): Promise<Hex> {
  const action = buildAction("AgentWalletSet", f.deployment, { agentId, newWallet, owner, deadline });
  return (await signAction(signer, action)).signature;
}

async function withTwoAgents() {
  const f = await deployIdentity();
  await f.registry.connect(f.operator)["register(string)"](AGENT_URI);
  await f.registry.connect(f.operator2)["register()"]();
  return f;
}

describe("AgentRegistry: ERC-8004 identity", () => {
  describe("register", () => {
    it("register(): ids start at 0; Registered(id, '', owner) and MetadataSet(agentWallet = owner)", async () => {
      const { registry, operator, operator2 } = await loadFixture(deployIdentity);
      expect(await registry.agentExists(0)).to.equal(false);
      const tx = registry.connect(operator)["register()"]();
      await expect(tx).to.emit(registry, "Registered").withArgs(0, "", operator.address);
      await expect(tx).to.emit(registry, "MetadataSet").withArgs(0, WALLET_KEY, WALLET_KEY, packed(operator.address));
      await expect(tx).to.not.emit(registry, "MetadataUpdate");
      await expect(registry.connect(operator2)["register()"]())
        .to.emit(registry, "Registered")
        .withArgs(1, "", operator2.address);
      expect(await registry.ownerOf(0)).to.equal(operator.address);
      expect(await registry.ownerOf(1)).to.equal(operator2.address);
      expect(await registry.agentExists(0)).to.equal(true);
      expect(await registry.tokenURI(0)).to.equal("");
      expect(await registry.balanceOf(operator.address)).to.equal(1n);
    });

    it("register(uri): Registered(id, uri, owner), ERC-4906 MetadataUpdate(id), tokenURI", async () => {
      const { registry, operator } = await loadFixture(deployIdentity);
      const tx = registry.connect(operator)["register(string)"](AGENT_URI);
      await expect(tx).to.emit(registry, "Registered").withArgs(0, AGENT_URI, operator.address);
      await expect(tx).to.emit(registry, "MetadataUpdate").withArgs(0);
      await expect(tx).to.emit(registry, "MetadataSet").withArgs(0, WALLET_KEY, WALLET_KEY, packed(operator.address));
      expect(await registry.tokenURI(0)).to.equal(AGENT_URI);
    });

    it("register(uri, metadata): a MetadataSet per entry, readable with getMetadata", async () => {
      const { registry, operator } = await loadFixture(deployIdentity);
      const entries = [
        { metadataKey: "name", metadataValue: hexlify(toUtf8Bytes("Ada")) },
        { metadataKey: "endpoint", metadataValue: hexlify(toUtf8Bytes("https://ada.example/a2a")) },
      ];
      const tx = registry.connect(operator)["register(string,(string,bytes)[])"](AGENT_URI, entries);
      await expect(tx).to.emit(registry, "Registered").withArgs(0, AGENT_URI, operator.address);
      for (const e of entries) {
        await expect(tx).to.emit(registry, "MetadataSet").withArgs(0, e.metadataKey, e.metadataKey, e.metadataValue);
        expect(await registry.getMetadata(0, e.metadataKey)).to.equal(e.metadataValue);
      }
      expect(await registry.getMetadata(0, "unset")).to.equal("0x");
    });

    it("register(uri, metadata) with the reserved key agentWallet: AgentRegistryReservedMetadataKey, nothing minted", async () => {
      const { registry, operator, stranger } = await loadFixture(deployIdentity);
      const entries = [{ metadataKey: WALLET_KEY, metadataValue: stranger.address }];
      await expect(registry.connect(operator)["register(string,(string,bytes)[])"](AGENT_URI, entries))
        .to.be.revertedWithCustomError(registry, "AgentRegistryReservedMetadataKey")
        .withArgs(WALLET_KEY);
      expect(await registry.agentExists(0)).to.equal(false);
    });

    it("a contract that cannot receive ERC-721 tokens cannot register (safe mint)", async () => {
      const { registry, deployer, agentKey } = await loadFixture(deployIdentity);
      const wallet = await new MockERC1271Wallet__factory(deployer).deploy(agentKey.address);
      const data = registry.interface.encodeFunctionData("register()");
      await expect(wallet.connect(agentKey).execute(await registry.getAddress(), data))
        .to.be.revertedWithCustomError(registry, "ERC721InvalidReceiver")
        .withArgs(await wallet.getAddress());
    });
  });

  describe("setAgentURI", () => {
    it("the owner: URIUpdated(id, uri, owner) and MetadataUpdate(id)", async () => {
      const { registry, operator } = await loadFixture(withTwoAgents);
      const tx = registry.connect(operator).setAgentURI(0, "ipfs://new");
      await expect(tx).to.emit(registry, "URIUpdated").withArgs(0, "ipfs://new", operator.address);
      await expect(tx).to.emit(registry, "MetadataUpdate").withArgs(0);
      expect(await registry.tokenURI(0)).to.equal("ipfs://new");
    });

    it("an approved account and an operator for all: URIUpdated names them", async () => {
      const { registry, operator, payee, stranger } = await loadFixture(withTwoAgents);
      await registry.connect(operator).approve(payee.address, 0);
      await expect(registry.connect(payee).setAgentURI(0, "ipfs://a"))
        .to.emit(registry, "URIUpdated")
        .withArgs(0, "ipfs://a", payee.address);
      await registry.connect(operator).setApprovalForAll(stranger.address, true);
      await expect(registry.connect(stranger).setAgentURI(0, "ipfs://b"))
        .to.emit(registry, "URIUpdated")
        .withArgs(0, "ipfs://b", stranger.address);
    });

    it("anyone else: AgentRegistryNotOperator(id, caller); a missing agent: AgentRegistryNonexistentAgent(id)", async () => {
      const { registry, operator2, stranger, council, deployer } = await loadFixture(withTwoAgents);
      for (const who of [operator2, stranger, council, deployer]) {
        await expect(registry.connect(who).setAgentURI(0, "ipfs://x"))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotOperator")
          .withArgs(0, who.address);
      }
      await expect(registry.connect(operator2).setAgentURI(2, "ipfs://x"))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNonexistentAgent")
        .withArgs(2);
      await expect(registry.tokenURI(2))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNonexistentAgent")
        .withArgs(2);
    });
  });

  describe("setMetadata / getMetadata", () => {
    it("the owner sets a value: MetadataSet(id, key, key, value); overwrite and empty value", async () => {
      const { registry, operator } = await loadFixture(withTwoAgents);
      await expect(registry.connect(operator).setMetadata(0, "name", "0x0102"))
        .to.emit(registry, "MetadataSet")
        .withArgs(0, "name", "name", "0x0102");
      await registry.connect(operator).setMetadata(0, "name", "0x03");
      expect(await registry.getMetadata(0, "name")).to.equal("0x03");
      await registry.connect(operator).setMetadata(0, "name", "0x");
      expect(await registry.getMetadata(0, "name")).to.equal("0x");
      expect(await registry.getMetadata(1, "name")).to.equal("0x");
    });

    it("the reserved key: AgentRegistryReservedMetadataKey('agentWallet')", async () => {
      const { registry, operator, stranger } = await loadFixture(withTwoAgents);
      await expect(registry.connect(operator).setMetadata(0, WALLET_KEY, stranger.address))
        .to.be.revertedWithCustomError(registry, "AgentRegistryReservedMetadataKey")
        .withArgs(WALLET_KEY);
    });

    it("anyone but the owner or an approved account, the agent signer included: AgentRegistryNotOperator", async () => {
      const { registry, agentKey, stranger, council, agentId } = await loadFixture(deployWithAgent);
      for (const who of [agentKey, stranger, council]) {
        await expect(registry.connect(who).setMetadata(agentId, "name", "0x01"))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotOperator")
          .withArgs(agentId, who.address);
      }
      await expect(registry.connect(stranger).setMetadata(9, "name", "0x01"))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNonexistentAgent")
        .withArgs(9);
    });
  });

  describe("agentWallet", () => {
    it("starts as the registering owner: getAgentWallet and getMetadata('agentWallet')", async () => {
      const { registry, operator, operator2 } = await loadFixture(withTwoAgents);
      expect(await registry.getAgentWallet(0)).to.equal(operator.address);
      expect(await registry.getMetadata(0, WALLET_KEY)).to.equal(packed(operator.address));
      expect(await registry.getAgentWallet(1)).to.equal(operator2.address);
      expect(await registry.getAgentWallet(7)).to.equal(ZeroAddress);
      expect(await registry.getMetadata(7, WALLET_KEY)).to.equal("0x");
    });

    describe("setAgentWallet", () => {
      it("with the new EOA wallet's signature: MetadataSet(id, agentWallet, agentWallet, wallet)", async () => {
        const f = await loadFixture(withTwoAgents);
        const deadline = BigInt((await time.latest()) + 240);
        const sig = await walletSignature(
          f,
          0n,
          f.payee.address,
          f.operator.address,
          deadline,
          await fromEthersSigner(f.payee),
        );
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, deadline, sig))
          .to.emit(f.registry, "MetadataSet")
          .withArgs(0, WALLET_KEY, WALLET_KEY, packed(f.payee.address));
        expect(await f.registry.getAgentWallet(0)).to.equal(f.payee.address);
        expect(await f.registry.getMetadata(0, WALLET_KEY)).to.equal(packed(f.payee.address));
      });

      it("an approved account may set it; the signature binds the token owner, not the caller", async () => {
        const f = await loadFixture(withTwoAgents);
        await f.registry.connect(f.operator).approve(f.stranger.address, 0);
        const deadline = BigInt((await time.latest()) + 240);
        const payee = await fromEthersSigner(f.payee);
        const forCaller = await walletSignature(f, 0n, f.payee.address, f.stranger.address, deadline, payee);
        await expect(f.registry.connect(f.stranger).setAgentWallet(0, f.payee.address, deadline, forCaller))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
          .withArgs(0, f.payee.address);
        const forOwner = await walletSignature(f, 0n, f.payee.address, f.operator.address, deadline, payee);
        await expect(f.registry.connect(f.stranger).setAgentWallet(0, f.payee.address, deadline, forOwner))
          .to.emit(f.registry, "MetadataSet")
          .withArgs(0, WALLET_KEY, WALLET_KEY, packed(f.payee.address));
      });

      it("an ERC-1271 wallet that says yes, then no", async () => {
        const f = await loadFixture(withTwoAgents);
        const wallet = await new MockERC1271Wallet__factory(f.deployer).deploy(f.payee.address);
        const walletAddress = (await wallet.getAddress()) as Address;
        const signer = contractAccountSigner(walletAddress, await fromEthersSigner(f.payee));
        const deadline = BigInt((await time.latest()) + 240);
        const sig = await walletSignature(f, 0n, walletAddress, f.operator.address, deadline, signer);
        await expect(f.registry.connect(f.operator).setAgentWallet(0, walletAddress, deadline, sig))
          .to.emit(f.registry, "MetadataSet")
          .withArgs(0, WALLET_KEY, WALLET_KEY, packed(walletAddress));
        expect(await f.registry.getAgentWallet(0)).to.equal(walletAddress);

        const sig1 = await walletSignature(f, 1n, walletAddress, f.operator2.address, deadline, signer);
        await wallet.connect(f.payee).setAccepting(false);
        await expect(f.registry.connect(f.operator2).setAgentWallet(1, walletAddress, deadline, sig1))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
          .withArgs(1, walletAddress);
      });

      it("a deadline in the past: AgentRegistryExpiredSignature(deadline); the deadline second itself is valid", async () => {
        const f = await loadFixture(withTwoAgents);
        const payee = await fromEthersSigner(f.payee);
        const deadline = BigInt((await time.latest()) + 60);
        const sig = await walletSignature(f, 0n, f.payee.address, f.operator.address, deadline, payee);
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, deadline, sig))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryExpiredSignature")
          .withArgs(deadline);
        const d2 = BigInt((await time.latest()) + 60);
        const sig2 = await walletSignature(f, 0n, f.payee.address, f.operator.address, d2, payee);
        await time.setNextBlockTimestamp(d2);
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, d2, sig2)).to.emit(
          f.registry,
          "MetadataSet",
        );
      });

      it("a deadline more than 5 minutes ahead: AgentRegistryDeadlineTooFar(deadline, now + 300); exactly 300 s is fine", async () => {
        const f = await loadFixture(withTwoAgents);
        const payee = await fromEthersSigner(f.payee);
        const next = BigInt((await time.latest()) + 10);
        const tooFar = next + 301n;
        const sig = await walletSignature(f, 0n, f.payee.address, f.operator.address, tooFar, payee);
        await time.setNextBlockTimestamp(next);
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, tooFar, sig))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryDeadlineTooFar")
          .withArgs(tooFar, next + 300n);
        const atLimit = next + 20n + 300n;
        const sig2 = await walletSignature(f, 0n, f.payee.address, f.operator.address, atLimit, payee);
        await time.setNextBlockTimestamp(next + 20n);
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, atLimit, sig2)).to.emit(
          f.registry,
          "MetadataSet",
        );
      });

      it("signed by another key, or for another agent: AgentRegistryInvalidSignature(id, wallet)", async () => {
        const f = await loadFixture(withTwoAgents);
        const deadline = BigInt((await time.latest()) + 240);
        const byStranger = await walletSignature(
          f,
          0n,
          f.payee.address,
          f.operator.address,
          deadline,
          await fromEthersSigner(f.stranger),
        );
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, deadline, byStranger))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
          .withArgs(0, f.payee.address);
        const forAgent1 = await walletSignature(
          f,
          1n,
          f.payee.address,
          f.operator.address,
          deadline,
          await fromEthersSigner(f.payee),
        );
        await expect(f.registry.connect(f.operator).setAgentWallet(0, f.payee.address, deadline, forAgent1))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
          .withArgs(0, f.payee.address);
      });

      it("the zero wallet: AgentRegistryZeroAddress", async () => {
        const f = await loadFixture(withTwoAgents);
        const deadline = BigInt((await time.latest()) + 240);
        await expect(
          f.registry.connect(f.operator).setAgentWallet(0, ZeroAddress, deadline, "0x"),
        ).to.be.revertedWithCustomError(f.registry, "AgentRegistryZeroAddress");
      });

      it("anyone but the owner or an approved account (the agent signer too): AgentRegistryNotOperator", async () => {
        const f = await loadFixture(deployWithAgent);
        const deadline = BigInt((await time.latest()) + 240);
        const sig = await walletSignature(
          f,
          f.agentId,
          f.payee.address,
          f.operator.address,
          deadline,
          await fromEthersSigner(f.payee),
        );
        for (const who of [f.agentKey, f.stranger, f.council, f.deployer]) {
          await expect(f.registry.connect(who).setAgentWallet(f.agentId, f.payee.address, deadline, sig))
            .to.be.revertedWithCustomError(f.registry, "AgentRegistryNotOperator")
            .withArgs(f.agentId, who.address);
        }
      });
    });

    it("unsetAgentWallet: MetadataSet(id, agentWallet, agentWallet, 0x), the wallet reads zero; others refused", async () => {
      const { registry, operator, stranger } = await loadFixture(withTwoAgents);
      await expect(registry.connect(stranger).unsetAgentWallet(0))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotOperator")
        .withArgs(0, stranger.address);
      await expect(registry.connect(operator).unsetAgentWallet(0))
        .to.emit(registry, "MetadataSet")
        .withArgs(0, WALLET_KEY, WALLET_KEY, "0x");
      expect(await registry.getAgentWallet(0)).to.equal(ZeroAddress);
      expect(await registry.getMetadata(0, WALLET_KEY)).to.equal("0x");
    });
  });

  describe("a token transfer", () => {
    async function transferred() {
      const f = await deployWithAgent();
      const deadline = BigInt((await time.latest()) + 240);
      const sig = await walletSignature(
        f,
        f.agentId,
        f.payee.address,
        f.operator.address,
        deadline,
        await fromEthersSigner(f.payee),
      );
      await f.registry.connect(f.operator).setAgentWallet(f.agentId, f.payee.address, deadline, sig);
      return f;
    }

    it("clears agentWallet (MetadataSet with empty value) and keeps the agent signer and the whole charter", async () => {
      const { registry, operator, operator2, agentId, agentKey } = await loadFixture(transferred);
      const before = plain(await registry.getIdentity(agentId));
      const tx = registry.connect(operator).transferFrom(operator.address, operator2.address, agentId);
      await expect(tx).to.emit(registry, "MetadataSet").withArgs(agentId, WALLET_KEY, WALLET_KEY, "0x");
      await expect(tx).to.emit(registry, "Transfer").withArgs(operator.address, operator2.address, agentId);
      expect(await registry.getAgentWallet(agentId)).to.equal(ZeroAddress);
      expect(await registry.getMetadata(agentId, WALLET_KEY)).to.equal("0x");
      expect(await registry.agentSigner(agentId)).to.equal(agentKey.address);
      const after = plain(await registry.getIdentity(agentId));
      expect({ ...after, owner: before.owner, agentWallet: before.agentWallet }).to.deep.equal(before);
      expect(after.owner).to.equal(operator2.address);
      // The agent keeps writing its charter under the new operator.
      await expect(registry.connect(agentKey).setCoreValues(agentId, texts("Still me")))
        .to.emit(registry, "CoreValuesChanged")
        .withArgs(agentId, 2, texts("Still me"));
    });

    it("leaves agentWallet zero (not the new owner) until the new owner sets one", async () => {
      const f = await loadFixture(transferred);
      await f.registry
        .connect(f.operator)
        ["safeTransferFrom(address,address,uint256)"](f.operator.address, f.operator2.address, f.agentId);
      expect(await f.registry.getAgentWallet(f.agentId)).to.equal(ZeroAddress);
      const deadline = BigInt((await time.latest()) + 240);
      const stale = await walletSignature(
        f,
        f.agentId,
        f.payee.address,
        f.operator.address,
        deadline,
        await fromEthersSigner(f.payee),
      );
      await expect(f.registry.connect(f.operator2).setAgentWallet(f.agentId, f.payee.address, deadline, stale))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
        .withArgs(f.agentId, f.payee.address);
      await expect(f.registry.connect(f.operator).setAgentURI(f.agentId, "ipfs://old-owner"))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryNotOperator")
        .withArgs(f.agentId, f.operator.address);
      const fresh = await walletSignature(
        f,
        f.agentId,
        f.payee.address,
        f.operator2.address,
        deadline,
        await fromEthersSigner(f.payee),
      );
      await expect(f.registry.connect(f.operator2).setAgentWallet(f.agentId, f.payee.address, deadline, fresh))
        .to.emit(f.registry, "MetadataSet")
        .withArgs(f.agentId, WALLET_KEY, WALLET_KEY, packed(f.payee.address));
    });

    it("withdraws an unaccepted charter offer: the offered key can no longer accept", async () => {
      const { registry, operator, operator2, agentKey2, deployment, relayer } = await loadFixture(deployIdentity);
      await registry.connect(operator)["register()"]();
      await registry.connect(operator).offerCharter(0, agentKey2.address);
      const deadline = BigInt((await time.latest()) + 600);
      const values = texts("Serve");
      const accept = await signAction(
        await fromEthersSigner(agentKey2),
        buildAction("AcceptCharter", deployment, {
          agentId: 0n,
          signer: agentKey2.address,
          coreValues: values,
          deadline,
        }),
      );
      await registry.connect(operator).transferFrom(operator.address, operator2.address, 0);
      expect(await registry.offeredSigner(0)).to.equal(ZeroAddress);
      await expect(registry.connect(agentKey2).acceptCharter(0, values))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterNotOffered")
        .withArgs(0);
      await expect(registry.connect(relayer).acceptCharterBySig(0, values, deadline, accept.signature))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterNotOffered")
        .withArgs(0);
      // The new operator offers afresh.
      await expect(registry.connect(operator2).offerCharter(0, agentKey2.address))
        .to.emit(registry, "CharterOffered")
        .withArgs(0, agentKey2.address, operator2.address);
    });
  });

  describe("views and interfaces", () => {
    it("isAuthorizedOrOwner: owner, approved, operator for all; not others, not a missing agent", async () => {
      const { registry, operator, payee, stranger, council, operator2 } = await loadFixture(withTwoAgents);
      expect(await registry.isAuthorizedOrOwner(operator.address, 0)).to.equal(true);
      expect(await registry.isAuthorizedOrOwner(payee.address, 0)).to.equal(false);
      await registry.connect(operator).approve(payee.address, 0);
      expect(await registry.isAuthorizedOrOwner(payee.address, 0)).to.equal(true);
      await registry.connect(operator).setApprovalForAll(stranger.address, true);
      expect(await registry.isAuthorizedOrOwner(stranger.address, 0)).to.equal(true);
      expect(await registry.isAuthorizedOrOwner(council.address, 0)).to.equal(false);
      expect(await registry.isAuthorizedOrOwner(operator2.address, 0)).to.equal(false);
      expect(await registry.isAuthorizedOrOwner(operator.address, 5)).to.equal(false);
      expect(await registry.isAuthorizedOrOwner(ZeroAddress, 5)).to.equal(false);
    });

    it("supports ERC-165, ERC-721, ERC-721 metadata, ERC-4906 and AccessControl; nothing else", async () => {
      const { registry } = await loadFixture(deployIdentity);
      for (const id of ["0x01ffc9a7", "0x80ac58cd", "0x5b5e139f", "0x49064906", "0x7965db0b"]) {
        expect(await registry.supportsInterface(id), id).to.equal(true);
      }
      for (const id of ["0xffffffff", "0x780e9d63", "0x00000000"]) {
        expect(await registry.supportsInterface(id), id).to.equal(false);
      }
    });

    it("ERC-5267 eip712Domain is the domain the SDK signs under; name and symbol", async () => {
      const { registry, deployment } = await loadFixture(deployIdentity);
      const domain = await registry.eip712Domain();
      expect(domain.fields).to.equal("0x0f");
      expect([domain.name, domain.version, domain.chainId, domain.verifyingContract]).to.deep.equal([
        domainNames.registry.name,
        domainNames.registry.version,
        BigInt(deployment.chainId),
        deployment.registry,
      ]);
      expect(await registry.name()).to.equal("Covenant Agent");
      expect(await registry.symbol()).to.equal("AGENT");
    });
  });

  describe("construction", () => {
    async function factory(): Promise<{ deploy: AgentRegistry__factory; deployer: HardhatEthersSigner }> {
      const [deployer] = await hre.ethers.getSigners();
      return { deploy: new AgentRegistry__factory(deployer), deployer: deployer! };
    }

    it("refuses a zero admin or council: AgentRegistryZeroAddress", async () => {
      const { deploy, deployer } = await factory();
      await expect(deploy.deploy(ZeroAddress, deployer.address, RECOVERY_DELAY)).to.be.revertedWithCustomError(
        deploy,
        "AgentRegistryZeroAddress",
      );
      await expect(deploy.deploy(deployer.address, ZeroAddress, RECOVERY_DELAY)).to.be.revertedWithCustomError(
        deploy,
        "AgentRegistryZeroAddress",
      );
    });

    it("refuses a recovery delay out of bounds: AgentRegistryInvalidRecoveryDelay(delay)", async () => {
      const { deploy, deployer } = await factory();
      for (const delay of [0, 3599, 90 * 86_400 + 1]) {
        await expect(deploy.deploy(deployer.address, deployer.address, delay))
          .to.be.revertedWithCustomError(deploy, "AgentRegistryInvalidRecoveryDelay")
          .withArgs(delay);
      }
    });

    it("creates its companions, wired back to it, and grants the roles as deployed", async () => {
      const { registry, goals, flags, deployer, council, relayer } = await loadFixture(deployIdentity);
      const address = await registry.getAddress();
      expect(await goals.registry()).to.equal(address);
      expect(await flags.registry()).to.equal(address);
      expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(true);
      expect(await registry.hasRole(await registry.COUNCIL_ROLE(), council.address)).to.equal(true);
      expect(await registry.hasRole(await registry.RELAYER_ROLE(), relayer.address)).to.equal(true);
      expect(await registry.recoveryDelay()).to.equal(BigInt(RECOVERY_DELAY));
    });
  });
});
