import { readFileSync } from "node:fs";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import type { Abi, Hash } from "viem";
import { formatAbiItem } from "viem/utils";
import { RELAYED_GAS_SERVICE, treasuryChargeAbi } from "../../keepers/tx-executor/charges";
import type { TxExecutorService } from "../../keepers/tx-executor/service";
import { deployTreasury, ETH, type TreasuryFixture } from "../fixtures/treasury";
import { devAddress, devKey, executorEnv, startInProcess } from "./helpers";

/*
 * Relayed gas charged to the agents' infrastructure budgets: real transactions sent through an executor for two
 * agents, then `chargeServices` batches against the Treasury deployed by the same Ignition modules as a testnet.
 */

const RELAYER = 16; // a dev account the treasury fixture does not use
const NOBODY = 17;

describe("tx-executor: relayed gas charged to agents' budgets", function () {
  this.timeout(120_000);
  let f: TreasuryFixture;
  let server: JsonRpcServer;
  let rpcUrl: string;
  let executor: { service: TxExecutorService; url: string; stop(): Promise<void> } | undefined;

  before(async () => {
    f = await loadFixture(deployTreasury);
    server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider as never });
    const { port } = await server.listen();
    rpcUrl = `http://127.0.0.1:${port}`;
    await f.treasury.grantRole(RELAYED_GAS_SERVICE, devAddress(RELAYER));
    await f.treasury.setServiceCap(RELAYED_GAS_SERVICE, ETH, 10n ** 18n);
    await f.treasury.fundBudget(f.agentId, ETH, 10n ** 16n, { value: 10n ** 16n });
  });
  after(async () => {
    await executor?.stop();
    await server?.close();
  });

  const env = async (key: number) =>
    executorEnv(rpcUrl, {
      KEEPER_PRIVATE_KEY: devKey(key),
      TREASURY_ADDRESS: await f.treasury.getAddress(),
      GAS_CHARGE_INTERVAL_MS: "86400000", // rounds run by the test only
    });

  /** Sends a keeper transaction naming `agentId` through the executor and waits for it: one agent_gas row. */
  async function relayFor(agentId: bigint, n: number): Promise<Hash> {
    const submitter = executor!.service.executor.submitterFor("test");
    const record = await submitter.submit({
      key: `relay-${agentId}-${n}`,
      to: f.payee.address as Hash,
      data: "0x",
      agentId: agentId.toString(),
    });
    const done = await submitter.wait(record.id, { timeoutMs: 30_000, pollIntervalMs: 50 });
    expect(done.status).to.equal("confirmed");
    return done.hash!;
  }

  async function waitSettled(): Promise<number> {
    const charger = executor!.service.charger!;
    for (let i = 0; i < 200; i++) {
      const round = await charger.round();
      if (round.charged > 0) return round.charged;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the charge batch did not settle");
  }

  const uncharged = async (agentId: bigint) => {
    const res = await fetch(`${executor!.url}/agents/${agentId}/gas`);
    return (await res.json()) as { transactions: number; costWei: string; unchargedTransactions: number };
  };

  it("uses the compiled Treasury's functions and service id, fragment by fragment", async () => {
    const artifact = path.resolve(__dirname, "../../artifacts/contracts/treasury/Treasury.sol/Treasury.json");
    const abi = (JSON.parse(readFileSync(artifact, "utf8")) as { abi: Abi }).abi;
    const compiled = new Set(abi.filter((x) => x.type === "function").map((x) => formatAbiItem(x as never)));
    for (const item of treasuryChargeAbi) expect(compiled.has(formatAbiItem(item)), formatAbiItem(item)).to.equal(true);
    expect(await f.treasury.RELAYED_GAS_SERVICE()).to.equal(RELAYED_GAS_SERVICE);
  });

  it("refuses to start when the relayer does not hold RELAYED_GAS_SERVICE", async () => {
    let error: unknown;
    try {
      const e = await startInProcess(await env(NOBODY));
      await e.stop();
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(
      new RegExp(`TREASURY_ADDRESS: the relayer ${devAddress(NOBODY)} does not hold RELAYED_GAS_SERVICE`),
    );
  });

  it("charges each relayed transaction once, defers an agent without budget, and never charges twice", async () => {
    executor = await startInProcess(await env(RELAYER));
    const hashes = [await relayFor(f.agentId, 1), await relayFor(f.agentId, 2), await relayFor(f.agentId2, 1)];
    const before = {
      budget: await f.treasury.budgetOf(f.agentId, ETH),
      relayer: await hre.ethers.provider.getBalance(devAddress(RELAYER)),
    };
    const costs = await uncharged(f.agentId);
    expect(costs.transactions).to.equal(2);
    expect(costs.unchargedTransactions).to.equal(2);

    const first = await executor.service.charger!.round();
    expect(first.submitted?.charges).to.equal(2);
    expect(first.submitted?.totalWei).to.equal(BigInt(costs.costWei));
    expect(first.deferred).to.equal(1); // agent 2 has no budget
    expect(await waitSettled()).to.equal(2);

    expect(before.budget - (await f.treasury.budgetOf(f.agentId, ETH))).to.equal(BigInt(costs.costWei));
    for (const h of hashes.slice(0, 2))
      expect(await f.treasury.isCharged(f.agentId, RELAYED_GAS_SERVICE, h)).to.equal(true);
    expect(await f.treasury.isCharged(f.agentId2, RELAYED_GAS_SERVICE, hashes[2]!)).to.equal(false);
    expect((await uncharged(f.agentId)).unchargedTransactions).to.equal(0);
    expect((await uncharged(f.agentId2)).unchargedTransactions).to.equal(1);
    const logs = await f.treasury.queryFilter(f.treasury.filters.ServiceCharged(f.agentId, RELAYED_GAS_SERVICE));
    expect(logs.map((l) => l.args.ref)).to.have.members(hashes.slice(0, 2));
    expect(logs.every((l) => l.args.keeper === devAddress(RELAYER))).to.equal(true);

    // A crash after the batch landed but before the store marked it: the rows look uncharged again. The next round
    // finds them charged on-chain and marks them without sending anything.
    const store = executor.service.charger!.o.store;
    await store.db.query(`UPDATE ${store.t.gas} SET charged_at = NULL, charge_ref = NULL WHERE agent_id = $1`, [
      f.agentId.toString(),
    ]);
    const nonce = await hre.ethers.provider.getTransactionCount(devAddress(RELAYER));
    const replay = await executor.service.charger!.round();
    expect(replay.alreadyCharged).to.equal(2);
    expect(replay.submitted).to.equal(undefined);
    expect(await hre.ethers.provider.getTransactionCount(devAddress(RELAYER))).to.equal(nonce);
    expect(before.budget - (await f.treasury.budgetOf(f.agentId, ETH))).to.equal(BigInt(costs.costWei));

    // Agent 2's budget is funded: its deferred row is charged in the next batch.
    await f.treasury.fundBudget(f.agentId2, ETH, 10n ** 16n, { value: 10n ** 16n });
    const later = await executor.service.charger!.round();
    expect(later.submitted?.charges).to.equal(1);
    expect(await waitSettled()).to.equal(1);
    expect(await f.treasury.isCharged(f.agentId2, RELAYED_GAS_SERVICE, hashes[2]!)).to.equal(true);
    expect((await uncharged(f.agentId2)).unchargedTransactions).to.equal(0);
  });

  it("leaves a row for later when the agent's own service limit is lower than the cost", async () => {
    const hash = await relayFor(f.agentId, 3);
    // The agent caps what the relayed-gas service may take per period at 1 wei.
    await f.treasury.connect(f.agentKey).setServiceLimit(f.agentId, RELAYED_GAS_SERVICE, ETH, 1);
    const round = await executor!.service.charger!.round();
    expect(round.deferred).to.equal(1);
    expect(round.submitted).to.equal(undefined);
    expect(await f.treasury.isCharged(f.agentId, RELAYED_GAS_SERVICE, hash)).to.equal(false);
  });
});
