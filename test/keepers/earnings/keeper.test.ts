import { existsSync } from "node:fs";
import { expect } from "chai";
import { type Address, getAddress, parseAbi } from "viem";
import { distributorAbi, routerAbi } from "../../../keepers/earnings/abi";
import { recomputeEpoch } from "../../../keepers/earnings/chain";
import { contentAddress } from "../../../keepers/earnings/publish";
import { EarningsTree, processProof } from "../../../keepers/earnings/tree";
import { ident, keeperSchema, openStore, type Store, sharedSchema } from "../../../keepers/shared";
import { deployEarningsChain, type EarningsChain } from "../../fixtures/earningsChain";
import { useHardhatNode } from "../../helpers/hardhatNode";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import { keeperEnv, SteppedKeeper } from "./keeperHarness";

const ETH = "0x0000000000000000000000000000000000000000" as Address;
const treasuryAbi = parseAbi([
  "function earningsOf(uint256 agentId, address token) view returns (uint256)",
  "function budgetOf(uint256 agentId, address token) view returns (uint256)",
]);

/*
 * The earnings keeper against a real `hardhat node` over JSON-RPC: it reads Paid events, closes epochs, reconciles,
 * publishes, posts once, claims after the window, serves proofs, and survives a restart, a lost event and a reorg.
 * The steps share one chain and one keeper database, in order.
 */
describe("earnings keeper (hardhat node, JSON-RPC)", function () {
  this.timeout(240_000);
  const node = useHardhatNode();
  let chain: EarningsChain;
  let dataDir: string;
  let name: string;
  const keepers: SteppedKeeper[] = [];
  const payments = (epoch: bigint, n: number, base: bigint) =>
    Array.from({ length: n }, (_, i) => ({ agentId: BigInt((i * 7) % 40), amount: base + BigInt(i) * 1_003n + epoch }));

  const startKeeper = async (extra: Record<string, string> = {}) => {
    // Small claim batches everywhere, so that an epoch of 40 leaves needs several.
    const keeper = new SteppedKeeper(keeperEnv(chain, dataDir, { CLAIM_BATCH_GAS: "600000", ...extra }), name);
    keepers.push(keeper);
    return keeper.begin();
  };
  const rootsPosted = async (epoch: bigint) =>
    chain.client.getContractEvents({
      address: chain.addresses.distributor,
      abi: distributorAbi,
      eventName: "RootPosted",
      args: { epoch },
      fromBlock: chain.startBlock,
    });
  const withStore = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => {
    // The keeper's own store: PGlite instances are shared per folder within a process.
    const store = process.env.DATABASE_URL
      ? await openStore({ databaseUrl: process.env.DATABASE_URL })
      : await openStore({ dataDir });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };

  before(async () => {
    chain = await deployEarningsChain(node().url, { agents: 64, epochLength: 3_600, challengeWindow: 600 });
    dataDir = makeTempDir("covenant-earnings-");
    name = uniqueName("earnings").toLowerCase();
  });
  afterEach(async function () {
    const failed = this.currentTest?.state === "failed";
    for (const k of keepers.splice(0)) {
      await k.stop();
      if (failed) console.log(k.logs.text());
    }
  });
  after(async () => {
    if (process.env.DATABASE_URL) {
      await withStore(async (store) => {
        await store.exec(`DROP SCHEMA IF EXISTS ${ident(keeperSchema(name))} CASCADE`);
        await store.exec(`DROP SCHEMA IF EXISTS ${ident(sharedSchema(name))} CASCADE`);
      });
    }
  });

  it("closes an epoch from Paid events, publishes its tree by content address and posts the root", async () => {
    await chain.payEth(payments(0n, 60, 10_000n), 25);
    await chain.payToken(3n, 123_456n);
    await chain.payToken(5n, 7n); // an agent share of 0: no leaf
    await chain.startEpoch(1n);
    const keeper = await startKeeper();

    for (const token of [ETH, getAddress(chain.addresses.token)]) {
      const posted = await rootsPosted(0n);
      const ours = posted.find((l) => getAddress(l.args.token!) === token);
      expect(ours, `a root for ${token}`).to.not.equal(undefined);
      const bucket = await chain.client.readContract({
        address: chain.addresses.router,
        abi: routerAbi,
        functionName: "bucketOf",
        args: [0n, token],
      });
      expect(ours!.args.total).to.equal(bucket);
      // Anyone recomputes the same root from the chain alone.
      const recomputed = await recomputeEpoch(chain.client, chain.addresses, 0n);
      expect(recomputed.trees.get(token)!.root).to.equal(ours!.args.root);
      const cid = ours!.args.uri!.replace("ipfs://", "");
      const file = `${dataDir}/trees/${cid}.json`;
      expect(existsSync(file)).to.equal(true);
      expect(await contentAddress(await import("node:fs").then((fs) => fs.readFileSync(file)))).to.equal(cid);
    }
    const text = await keeper.metricsText();
    expect(text).to.match(new RegExp(`covenant_${name}_epochs_closed_total\\{[^}]*token="${ETH}"[^}]*\\} 1`));
    expect(text).to.match(new RegExp(`covenant_${name}_roots_posted_total\\{[^}]*\\} 1`));
  });

  it("closes twice to the same root and posts it once, across a restart", async () => {
    const before = await chain.client.getTransactionCount({ address: chain.accounts.poster });
    const again = await startKeeper();
    await again.step();
    expect(await chain.client.getTransactionCount({ address: chain.accounts.poster })).to.equal(before);
    expect((await rootsPosted(0n)).length).to.equal(2); // one for ETH, one for the token
  });

  it("serves each agent's proof over HTTP", async () => {
    const keeper = await startKeeper();
    const res = await fetch(`${keeper.url}/earnings/0/14`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as {
      leaves: { token: Address; amount: string; proof: `0x${string}`[]; root: `0x${string}` }[];
    };
    const eth = body.leaves.find((l) => l.token === ETH)!;
    expect(processProof({ agentId: 14n, token: ETH, amount: BigInt(eth.amount) }, eth.proof)).to.equal(eth.root);
    expect((await fetch(`${keeper.url}/earnings/0/63`)).status).to.equal(404);
    expect((await fetch(`${keeper.url}/earnings/zero/1`)).status).to.equal(400);
  });

  it("refuses to post an epoch whose leaves miss the bucket, logs why and counts it; posts once they agree", async () => {
    await chain.payEth(payments(1n, 30, 20_000n), 30);
    await chain.startEpoch(2n);
    // One block a tick: the first tick reads the payments' block, not yet the block that ends the epoch.
    const keeper = await startKeeper({ SCAN_MAX_CHUNKS: "1", LOG_CHUNK_BLOCKS: "1" });
    const table = `${ident(keeperSchema(name))}.payments`;
    // A lost event: the keeper's copy of one payment disappears before the epoch closes.
    const lost = await withStore(async (store) => {
      const { rows } = await store.query<Record<string, string | number>>(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE epoch = 1 LIMIT 1) RETURNING *`,
      );
      return rows[0]!;
    });
    await keeper.step();
    expect((await rootsPosted(1n)).length).to.equal(0);
    const refusal = keeper.logs.lines().find((l) => l.msg === "reconciliation failed: not posting");
    expect(refusal, keeper.logs.text()).to.not.equal(undefined);
    expect(String(refusal!.problem)).to.match(/the bucket holds more/);
    const failures = new RegExp(`covenant_${name}_reconciliation_failures_total\\{[^}]*\\} 1`);
    expect(await keeper.metricsText()).to.match(failures);
    await keeper.step(); // still refused, counted once
    expect(await keeper.metricsText()).to.match(failures);
    expect((await rootsPosted(1n)).length).to.equal(0);

    // The payment is found again: the refused epoch is retried, reconciles and is posted.
    await withStore((store) =>
      store.query(
        `INSERT INTO ${table} (block_number, log_index, block_hash, tx_hash, epoch, token, agent_id, gross, agent_share)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          lost.block_number,
          lost.log_index,
          lost.block_hash,
          lost.tx_hash,
          lost.epoch,
          lost.token,
          lost.agent_id,
          lost.gross,
          lost.agent_share,
        ],
      ),
    );
    await keeper.step();
    const posted = await rootsPosted(1n);
    expect(posted.length).to.equal(1);
    const recomputed = await recomputeEpoch(chain.client, chain.addresses, 1n);
    expect(posted[0]!.args.root).to.equal(recomputed.trees.get(ETH)!.root);
  });

  it("undoes a reorg: the abandoned blocks' payments are not counted", async () => {
    const keeper = await startKeeper();
    const snapshot = await chain.rpc<string>("evm_snapshot");
    await chain.payEth([{ agentId: 1n, amount: 1_000_000n }], 1);
    await chain.payEth([{ agentId: 2n, amount: 2_000_000n }], 1);
    await keeper.step(); // reads both blocks
    await chain.rpc("evm_revert", [snapshot]);
    // The new chain: other payments, and more blocks than the old one.
    await chain.payEth([{ agentId: 3n, amount: 3_000_000n }], 1);
    await chain.payEth([{ agentId: 4n, amount: 4_000_000n }], 1);
    await chain.payEth([{ agentId: 4n, amount: 5_000_000n }], 1);
    await chain.startEpoch(3n);
    await keeper.step();
    expect(keeper.logs.lines().some((l) => l.msg === "reorg detected, rolled back")).to.equal(true);
    const posted = await rootsPosted(2n);
    expect(posted.length).to.equal(1);
    const tree = (await recomputeEpoch(chain.client, chain.addresses, 2n)).trees.get(ETH)!;
    expect(posted[0]!.args.root).to.equal(tree.root);
    expect(tree.leaves.map((l) => l.agentId)).to.deep.equal([3n, 4n]);
    expect(tree.total).to.equal(1_200_000n);
  });

  it("claims every leaf after the challenge window, in batches that fit a block", async () => {
    await chain.increaseTime(601);
    const keeper = await startKeeper({ CLAIM_BATCH_GAS: "600000", CLAIM_IN_FLIGHT: "4" });
    for (let i = 0; i < 10; i++) await keeper.step();
    for (const epoch of [0n, 1n, 2n]) {
      const tree = (await recomputeEpoch(chain.client, chain.addresses, epoch)).trees.get(ETH)!;
      for (const leaf of tree.leaves) {
        const claimed = await chain.client.readContract({
          address: chain.addresses.distributor,
          abi: distributorAbi,
          functionName: "isClaimed",
          args: [epoch, ETH, leaf.agentId],
        });
        expect(claimed, `epoch ${epoch} agent ${leaf.agentId}`).to.equal(true);
      }
      const info = await chain.client.readContract({
        address: chain.addresses.distributor,
        abi: distributorAbi,
        functionName: "epochInfo",
        args: [epoch, ETH],
      });
      expect(info.remaining).to.equal(0n);
    }
    // Agent 14's personal earnings from epoch 0: half its leaf (default split), in its Treasury account.
    const tree0 = EarningsTree.build(
      (await recomputeEpoch(chain.client, chain.addresses, 0n)).trees.get(ETH)!.leaves.map((l) => ({ ...l })),
    );
    const leaf14 = tree0.leafOf(14n)!;
    const tree1 = (await recomputeEpoch(chain.client, chain.addresses, 1n)).trees.get(ETH)!;
    const expected = (leaf14.amount * 5_000n) / 10_000n + ((tree1.leafOf(14n)?.amount ?? 0n) * 5_000n) / 10_000n;
    expect(
      await chain.client.readContract({
        address: chain.addresses.treasury,
        abi: treasuryAbi,
        functionName: "earningsOf",
        args: [14n, ETH],
      }),
    ).to.equal(expected);
    expect(await keeper.metricsText()).to.match(new RegExp(`covenant_${name}_claim_backlog\\{[^}]*\\} 0`));
    const batches = await withStore((store) =>
      store.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${ident(keeperSchema(name))}.claim_batches WHERE epoch = 0 AND token = $1`,
        [ETH],
      ),
    );
    expect(Number(batches.rows[0]!.n), "several batches for epoch 0").to.be.greaterThan(1);
  });
});
