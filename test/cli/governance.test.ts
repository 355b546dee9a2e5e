import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { callArg, supportArg } from "../../cli/commands/governance";
import { CliError } from "../../cli/context";
import { main } from "../../cli/index";
import { commonsSpend, deployWithAgents } from "../fixtures/governance";
import { makeTempDir } from "../helpers/tmp";
import { devKey, serveHardhat } from "../keepers/governance/harness";

/*
 * `covenant gov …` and `covenant evolution …` in-process against the in-process chain served over HTTP: a proposal's
 * whole life from the command line, an agent's ballot signed and relayed, an evolution proposed and staged.
 */

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = { log: console.log, error: console.error };
  let out = "";
  let err = "";
  console.log = (...a: unknown[]) => {
    out += `${a.join(" ")}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(" ")}\n`;
  };
  try {
    const code = await main(["node", "covenant", ...args]);
    return { code, out, err };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
  }
}

describe("covenant CLI: governance and evolution commands", function () {
  this.timeout(120_000);
  let server: { url: string; close: () => Promise<void> };
  before(async () => {
    server = await serveHardhat();
  });
  after(async () => {
    await server?.close();
  });

  it("takes a proposal through its life, with an agent's ballot signed and relayed", async () => {
    const f = await loadFixture(deployWithAgents);
    const dir = makeTempDir("covenant-cli-gov-");
    const record = path.join(dir, "31337.json");
    const contracts: Record<string, { address: string }> = {};
    for (const [name, c] of Object.entries({
      AgentRegistry: f.registry,
      CovenantGovernor: f.governor,
      CovenantVotes: f.votes,
      EvolutionRegistry: f.evolution,
      CommonsPolicy: f.policy,
    })) {
      contracts[name] = { address: await c.getAddress() };
    }
    contracts.AgentGoals = { address: await f.registry.agentGoals() };
    contracts.CouncilFlags = { address: await f.registry.councilFlags() };
    writeFileSync(record, JSON.stringify({ chainId: 31337, network: "hardhat", contracts }));
    const cli = (...args: string[]) => run("--rpc", server.url, "--deployment", record, ...args);
    const as = (index: number) => {
      process.env.COVENANT_VOTER_KEY = devKey(index);
    };

    let r = await cli("gov", "weight", f.human1.address);
    expect(r.out).to.include("Human house, weight 100");

    as(11);
    const { target: commons, data: release } = await commonsSpend(
      f.treasury,
      f.payee.address,
      hre.ethers.parseEther("1"),
    );
    r = await cli("gov", "propose", "--call", `${commons}:0:${release}`, "--description", "CLI: release 1 ETH");
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include("proposal id: 1");

    await time.increaseTo((await f.governor.proposalSnapshot(1)) + 1n);
    for (const index of [11, 12]) {
      as(index);
      r = await cli("gov", "vote", "1", "for", "--reason", "fund onboarding");
      expect(r.code, r.err).to.equal(0);
    }
    r = await cli("gov", "vote", "1", "for");
    expect(r.code).to.equal(1);
    expect(r.err).to.include(`GovernorAlreadyCastVote(${f.human2.address})`);
    r = await cli("gov", "vote", "1", "maybe");
    expect(r.code).to.equal(2);
    expect(r.err).to.include('support must be for, against or abstain (or 1, 0, 2), got "maybe"');

    process.env.COVENANT_AGENT_KEY = devKey(6);
    process.env.COVENANT_RELAYER_KEY = devKey(2);
    const ballot = path.join(dir, "ballot.json");
    r = await cli("gov", "sign-vote", "1", "for", "--out", ballot);
    expect(r.code, r.err).to.equal(0);
    r = await cli("gov", "relay-vote", ballot);
    expect(r.code, r.err).to.equal(0);
    expect(await f.governor.hasVoted(1, f.agentKey.address)).to.equal(true);

    r = await cli("--json", "gov", "show", "1");
    const shown = JSON.parse(r.out) as { state: string; humans: { for: string }; agents: { for: string } };
    expect(shown.state).to.equal("Active");
    expect(shown.humans.for).to.equal("200");
    expect(BigInt(shown.agents.for) > 0n).to.equal(true);

    await time.increaseTo((await f.governor.proposalDeadline(1)) + 1n);
    r = await cli("gov", "queue", "1");
    expect(r.code, r.err).to.equal(0);
    await time.increaseTo(await f.governor.proposalEta(1));
    const before = await hre.ethers.provider.getBalance(f.payee.address);
    r = await cli("gov", "execute", "1");
    expect(r.code, r.err).to.equal(0);
    expect(await hre.ethers.provider.getBalance(f.payee.address)).to.equal(before + hre.ethers.parseEther("1"));
    r = await cli("gov", "show", "1");
    expect(r.out).to.include("proposal 1: Executed");

    r = await cli("gov", "cancel", "1", "--calldata-only");
    expect(JSON.parse(r.out)).to.deep.equal({
      to: await f.governor.getAddress(),
      value: "0",
      data: f.governor.interface.encodeFunctionData("cancel(uint256)", [1]),
    });

    // An evolution from an artifact file.
    const artifact = path.join(
      hre.config.paths.artifacts,
      "contracts/evolution/CommonsPolicyV2.sol/CommonsPolicyV2.json",
    );
    r = await cli(
      "evolution",
      "propose",
      artifact,
      "--risk",
      "10",
      "--spec",
      "ipfs://spec",
      "--target",
      await f.policy.getAddress(),
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include("evolution id: 1");
    r = await cli("evolution", "stage", "1", artifact);
    expect(r.code, r.err).to.equal(0);
    r = await cli("--json", "evolution", "show", "1");
    const ev = JSON.parse(r.out) as { status: string; staged: boolean; attestation: unknown };
    expect([ev.status, ev.staged, ev.attestation]).to.deep.equal(["Proposed", true, null]);
    r = await cli("evolution", "actions", "1");
    expect(r.out).to.include(`--call ${await f.evolution.getAddress()}:0:0x11c9ab40`);
    r = await cli("evolution", "show", "9");
    expect(r.code).to.equal(2);
    expect(r.err).to.include("EvolutionRegistryNonexistentEvolution(9)");
    delete process.env.COVENANT_VOTER_KEY;
    delete process.env.COVENANT_AGENT_KEY;
    delete process.env.COVENANT_RELAYER_KEY;
  });

  it("validates arguments before touching the chain", () => {
    expect(supportArg("Against")).to.equal(0);
    expect(supportArg("2")).to.equal(2);
    expect(() => supportArg("3")).to.throw(CliError);
    expect(callArg("0x00000000000000000000000000000000000000aa:5:0x1234")).to.deep.equal([
      { target: "0x00000000000000000000000000000000000000aA", value: 5n, data: "0x1234" },
    ]);
    expect(() => callArg("0x00000000000000000000000000000000000000aa:x:0x")).to.throw("--call must be");
    expect(() => callArg("0x00000000000000000000000000000000000000aa:0:0x123")).to.throw("is not hex bytes");
  });
});
