import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { deployWithAgents, GOV } from "../fixtures/governance";

const DEFAULT_ADMIN_ROLE = `0x${"00".repeat(32)}`;
const role = (name: string) => hre.ethers.id(name);

describe("Governance deployment (deploy/modules/Governance.ts)", () => {
  it("leaves the timelock the only admin of every contract and the deployer with no role anywhere", async () => {
    const f = await loadFixture(deployWithAgents);
    const timelock = await f.timelock.getAddress();
    const deployer = f.deployer.address;
    const { RevenueRouter__factory, EarningsDistributor__factory, SpendingLimitModule__factory } = await import(
      "../../typechain-types"
    );
    const router = RevenueRouter__factory.connect(f.router, f.deployer);
    const distributor = EarningsDistributor__factory.connect(f.distributor, f.deployer);
    const limits = SpendingLimitModule__factory.connect(f.spendingLimits, f.deployer);
    for (const c of [f.registry, f.votes, f.evolution, f.treasury, router, distributor, limits]) {
      expect(await c.hasRole(DEFAULT_ADMIN_ROLE, timelock)).to.equal(true);
      expect(await c.hasRole(DEFAULT_ADMIN_ROLE, deployer)).to.equal(false);
    }
    expect(await f.timelock.hasRole(DEFAULT_ADMIN_ROLE, timelock)).to.equal(true);
    for (const r of ["DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"]) {
      const id = r === "DEFAULT_ADMIN_ROLE" ? DEFAULT_ADMIN_ROLE : role(r);
      expect(await f.timelock.hasRole(id, deployer)).to.equal(false, r);
    }
    expect(await f.policy.owner()).to.equal(timelock);
    expect(await distributor.hasRole(role("EARNINGS_POSTER_ROLE"), deployer)).to.equal(false);
    expect(await distributor.hasRole(role("GUARDIAN_ROLE"), f.guardianAddress)).to.equal(true);
    expect(await limits.hasRole(role("GUARDIAN_ROLE"), f.guardianAddress)).to.equal(true);
    expect(await limits.hasRole(role("GUARDIAN_ROLE"), deployer)).to.equal(false);
  });

  it("wires the timelock: the governor proposes, executes and cancels; the guardian Safe cancels", async () => {
    const f = await loadFixture(deployWithAgents);
    const governor = await f.governor.getAddress();
    expect(await f.timelock.hasRole(role("PROPOSER_ROLE"), governor)).to.equal(true);
    expect(await f.timelock.hasRole(role("EXECUTOR_ROLE"), governor)).to.equal(true);
    expect(await f.timelock.hasRole(role("CANCELLER_ROLE"), governor)).to.equal(true);
    expect(await f.timelock.hasRole(role("CANCELLER_ROLE"), f.guardianAddress)).to.equal(true);
    // Nobody else executes: the risk delay the governor enforces cannot be skipped.
    expect(await f.timelock.hasRole(role("EXECUTOR_ROLE"), hre.ethers.ZeroAddress)).to.equal(false);
    expect(await f.timelock.hasRole(role("PROPOSER_ROLE"), f.guardianAddress)).to.equal(false);
    expect(await f.timelock.getMinDelay()).to.equal(GOV.timelockMinDelay);
    expect(await f.governor.timelock()).to.equal(await f.timelock.getAddress());
    expect(await f.governor.proposalGuardian()).to.equal(f.guardianAddress);
  });

  it("gives the keeper roles to their keys and keeps the council the registry's", async () => {
    const f = await loadFixture(deployWithAgents);
    expect(await f.votes.hasRole(role("ATTESTOR_ROLE"), f.attestor.address)).to.equal(true);
    expect(await f.evolution.hasRole(role("SIMULATOR_ROLE"), f.simulator.address)).to.equal(true);
    expect(await f.registry.hasRole(role("COUNCIL_ROLE"), f.council.address)).to.equal(true);
    expect(await f.evolution.timelock()).to.equal(await f.timelock.getAddress());
    expect(await f.evolution.windows()).to.deep.equal([BigInt(GOV.proposalWindow), BigInt(GOV.executionWindow)]);
    expect(await f.votes.caps()).to.deep.equal([BigInt(GOV.agentCap), BigInt(GOV.operatorCap)]);
    expect(await f.votes.secondsPerAgePoint()).to.equal(GOV.secondsPerAgePoint);
    expect(await f.policy.defaultSplit()).to.deep.equal([
      BigInt(GOV.personalBps),
      BigInt(GOV.infrastructureBps),
      BigInt(GOV.commonsBps),
    ]);
    expect(await f.policy.implementation()).to.equal(f.policyImplementation);
  });
});
