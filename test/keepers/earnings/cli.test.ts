import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { Address, Hex } from "viem";
import { main } from "../../../cli/index";
import { distributorAbi } from "../../../keepers/earnings/abi";
import { EarningsTree } from "../../../keepers/earnings/tree";
import { ident, keeperSchema, openStore, sharedSchema } from "../../../keepers/shared";
import { deployEarningsChain, type EarningsChain, NODE_KEYS } from "../../fixtures/earningsChain";
import { useHardhatNode } from "../../helpers/hardhatNode";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import { keeperEnv, SteppedKeeper } from "./keeperHarness";

const ETH = "0x0000000000000000000000000000000000000000" as Address;

/** Runs the CLI in-process; returns its exit code and what it printed. */
async function covenant(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log;
  const error = console.error;
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
    console.log = log;
    console.error = error;
  }
}

/*
 * `covenant earnings verify|proof|claim` against a hardhat node: the keeper posts epoch 0 honestly; the poster key
 * then posts a lying root for epoch 1 by hand. verify recomputes both from the chain alone.
 */
describe("covenant earnings (CLI)", function () {
  this.timeout(180_000);
  const node = useHardhatNode();
  let chain: EarningsChain;
  let base: string[];
  let keeperUrl: string;
  let keeper: SteppedKeeper;
  let dataDir: string;
  const name = uniqueName("earnings").toLowerCase();

  before(async () => {
    chain = await deployEarningsChain(node().url, { agents: 16, epochLength: 3_600, challengeWindow: 600 });
    const record = path.join(makeTempDir("covenant-record-"), "deployment.json");
    writeFileSync(
      record,
      JSON.stringify({
        chainId: chain.chainId,
        network: "hardhat-node",
        fromBlock: Number(chain.startBlock),
        contracts: {
          // The bench registry stands in for the identity part; the earnings commands read none of these three.
          AgentRegistry: { address: chain.addresses.registry },
          AgentGoals: { address: chain.addresses.registry },
          CouncilFlags: { address: chain.addresses.registry },
          RevenueRouter: { address: chain.addresses.router },
          EarningsDistributor: { address: chain.addresses.distributor },
          Treasury: { address: chain.addresses.treasury },
        },
      }),
    );
    base = ["--rpc", chain.url, "--deployment", record];
    await chain.payEth(
      Array.from({ length: 12 }, (_, i) => ({ agentId: BigInt(i), amount: 10_000n + BigInt(i) })),
      12,
    );
    await chain.startEpoch(1n);
    dataDir = makeTempDir("covenant-earnings-cli-");
    keeper = await new SteppedKeeper(keeperEnv(chain, dataDir), name).begin();
    keeperUrl = keeper.url;
  });
  after(async () => {
    await keeper?.stop();
    if (process.env.DATABASE_URL) {
      const store = await openStore({ databaseUrl: process.env.DATABASE_URL });
      await store.exec(`DROP SCHEMA IF EXISTS ${ident(keeperSchema(name))} CASCADE`);
      await store.exec(`DROP SCHEMA IF EXISTS ${ident(sharedSchema(name))} CASCADE`);
      await store.close();
    }
  });

  it("verify recomputes an honest root from the chain alone and agrees", async () => {
    const { code, out } = await covenant([...base, "--json", "earnings", "verify", "0"]);
    expect(code).to.equal(0);
    const summary = JSON.parse(out) as { ok: boolean; payments: number; tokens: { verdict: string; leaves: number }[] };
    expect(summary.ok).to.equal(true);
    expect(summary.payments).to.equal(12);
    expect(summary.tokens).to.have.length(1);
    expect(summary.tokens[0]).to.include({ verdict: "match", leaves: 12 });
  });

  it("verify exposes a lying root whose total is right", async () => {
    await chain.payEth(
      [
        { agentId: 1n, amount: 50_000n },
        { agentId: 2n, amount: 50_000n },
      ],
      2,
    );
    await chain.startEpoch(2n);
    // The poster moves one agent's earnings to the other: same total, so the contract takes it.
    const lie = EarningsTree.build([
      { agentId: 1n, token: ETH, amount: 1n },
      { agentId: 2n, token: ETH, amount: 9_999n },
    ]);
    const poster = chain.wallet(NODE_KEYS.poster);
    await chain.mined(
      await poster.writeContract({
        address: chain.addresses.distributor,
        abi: distributorAbi,
        functionName: "postRoot",
        args: [1n, ETH, lie.root, lie.total, "ipfs://lie"],
      }),
    );
    const { code, out, err } = await covenant([...base, "earnings", "verify", "1"]);
    expect(code).to.equal(1);
    expect(out).to.contain("MISMATCH: posted root differs");
    expect(err).to.contain("verify failed: 1 root(s) do not match");
  });

  it("proof gives a leaf and proof checked against the chain, from the chain, a keeper or a tree file", async () => {
    const fromChain = await covenant([...base, "--json", "earnings", "proof", "0", "7"]);
    expect(fromChain.code, fromChain.err).to.equal(0);
    const [leaf] = JSON.parse(fromChain.out) as {
      amount: string;
      proof: Hex[];
      root: Hex;
      onChainRoot: Hex;
      claimed: boolean;
    }[];
    expect(leaf!.amount).to.equal("1000"); // 10% of 10,007, rounded down
    expect(leaf!.onChainRoot).to.equal(leaf!.root.slice(0, 58));
    expect(leaf!.claimed).to.equal(false);

    const fromKeeper = await covenant([...base, "--json", "earnings", "proof", "0", "7", "--keeper", keeperUrl]);
    expect(JSON.parse(fromKeeper.out)).to.deep.equal(JSON.parse(fromChain.out));

    const info = await chain.client.getContractEvents({
      address: chain.addresses.distributor,
      abi: distributorAbi,
      eventName: "RootPosted",
      args: { epoch: 0n },
      fromBlock: chain.startBlock,
    });
    const file = path.join(dataDir, "trees", `${info[0]!.args.uri!.replace("ipfs://", "")}.json`);
    const fromFile = await covenant([...base, "--json", "earnings", "proof", "0", "7", "--tree", file]);
    expect(JSON.parse(fromFile.out)).to.deep.equal(JSON.parse(fromChain.out));

    const none = await covenant([...base, "earnings", "proof", "0", "15"]);
    expect(none.code).to.equal(2);
    expect(none.err).to.contain("agent 15 has no earnings in epoch 0");
  });

  it("claim sends the agent's claim once the window is over", async () => {
    await chain.increaseTime(601);
    process.env.COVENANT_SENDER_KEY = NODE_KEYS.claimer;
    try {
      const sent = await covenant([...base, "earnings", "claim", "0", "7"]);
      expect(sent.code, sent.err).to.equal(0);
      expect(sent.out).to.match(/claim 0x0{40}: tx 0x[0-9a-f]{64}/);
      const again = await covenant([...base, "earnings", "claim", "0", "7"]);
      expect(again.code).to.equal(2);
      expect(again.err).to.contain("nothing left to claim");
    } finally {
      delete process.env.COVENANT_SENDER_KEY;
    }
  });
});
