import { expect } from "chai";
import { createPublicClient, encodeFunctionData, type Hex, http } from "viem";
import { openStore } from "../../keepers/shared";
import { type HardhatNode, rpc, startHardhatNode } from "../helpers/hardhatNode";
import { startTcpProxy, type TcpProxy } from "../helpers/tcpProxy";
import { compileEmitter, deployEmitter } from "../helpers/testContract";
import {
  api,
  devAddress,
  devKey,
  type ExecutorEnv,
  type ExecutorProcess,
  executorEnv,
  KEEPER_TOKEN,
  keeperTx,
  killAllExecutors,
  nonceReport,
  pingCounts,
  pool,
  startExecutorProcess,
  useIntervalMining,
  waitFinal,
} from "./helpers";

/*
 * The executor runs as a child process against real `hardhat node` children. The RPC goes away
 * behind a loopback TCP proxy and comes back; a transaction priced under a base fee the test forces
 * up is replaced, reported at the replacement cap, and confirmed.
 */
describe("tx-executor: outages and fees (executor processes, one hardhat node)", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let emitter: Hex;
  const { abi } = compileEmitter();
  before(async () => {
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
  });
  after(async () => {
    await killAllExecutors();
    await node?.stop();
  });

  describe("the RPC goes away and comes back", () => {
    let proxy: TcpProxy;
    let ex: ExecutorProcess;
    let env: ExecutorEnv;
    const relayerIndex = 12;
    const ping = (id: number) => encodeFunctionData({ abi, functionName: "ping", args: [BigInt(id), "outage"] });

    before(async () => {
      await useIntervalMining(node.url, 300);
      proxy = await startTcpProxy("127.0.0.1", node.port);
      env = await executorEnv(proxy.url(), { KEEPER_PRIVATE_KEY: devKey(relayerIndex), RPC_TIMEOUT_MS: "1000" });
      ex = await startExecutorProcess(env);
    });
    after(async () => {
      await killAllExecutors();
      await proxy?.close();
    });

    it("stores requests while the chain is unreachable and sends each exactly once when it is back", async () => {
      const send = (i: number) =>
        api(ex.url, "POST", "/tx/execute", keeperTx(`outage-${i}`, emitter, ping(i)), { token: KEEPER_TOKEN });
      // Some requests are accepted and on their way when the RPC drops.
      const before = await pool([...Array(20).keys()], 5, (i) => send(i));
      proxy.drop();
      for (const r of before) expect(r.status).to.equal(202);

      // While it is down: requests are stored and wait for their checks; /healthz says why.
      const during = await pool(
        [...Array(20).keys()].map((i) => i + 20),
        5,
        (i) => send(i),
      );
      for (const r of during) {
        expect(r.status, JSON.stringify(r.body)).to.equal(202);
        expect(r.body.status).to.equal("queued");
        expect(r.body.accepted).to.equal(false);
        expect(r.body.error).to.match(/^waiting for the chain/);
      }
      const health = await api(ex.url, "GET", "/healthz");
      expect(health.status).to.equal(503);
      expect((health.body.checks as Record<string, { ok: boolean }>).rpc!.ok).to.equal(false);
      await new Promise((r) => setTimeout(r, 2_000));

      proxy.resume();
      const ids = [...before, ...during].map((r) => r.body.id as string);
      const finals = await waitFinal(ex.url, ids, 60_000);
      const hashes = ids.map((id) => {
        expect(finals.get(id)!.status, JSON.stringify(finals.get(id))).to.equal("confirmed");
        return finals.get(id)!.hash as Hex;
      });
      const counts = await pingCounts(node.url, emitter);
      for (let i = 0; i < 40; i++) expect(counts.get(BigInt(i)), `ping ${i}`).to.equal(1);
      const report = await nonceReport(node.url, devAddress(relayerIndex), hashes);
      expect(report).to.include({ duplicates: 0, min: 0, max: 39, count: 40 });

      // A resend after the outage is answered from the store.
      const again = await send(25);
      expect(again.status).to.equal(200);
      expect(again.body.hash).to.equal(finals.get(again.body.id as string)!.hash);
    });

    it("stops gracefully on SIGTERM while requests arrive: exit 0, every answered request stored whole", async () => {
      const sends = [...Array(12).keys()].map((i) =>
        api(ex.url, "POST", "/tx/execute", keeperTx(`sigterm-${i}`, emitter, ping(100 + i)), {
          token: KEEPER_TOKEN,
        }).catch(() => undefined),
      );
      await new Promise((r) => setTimeout(r, 30));
      const code = ex.stop();
      const answers = await Promise.all(sends);
      expect(await code).to.equal(0);
      // The database as the stopped process left it: every 202 is there, checked, and every signed
      // request has its signed bytes (nothing half-written).
      const store = await openStore({ dataDir: env.DATA_DIR });
      try {
        for (const a of answers) {
          if (a?.status !== 202) continue;
          const { rows } = await store.query<{ accepted_at: Date | null; nonce: string | null }>(
            "SELECT accepted_at, nonce FROM tx_executor.requests WHERE id = $1",
            [a.body.id],
          );
          expect(rows, `request ${a.body.id} answered 202 but not stored`).to.have.length(1);
        }
        const { rows: torn } = await store.query(
          `SELECT r.id FROM tx_executor.requests r
            WHERE r.nonce IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tx_executor.attempts a WHERE a.request_id = r.id)`,
        );
        expect(torn).to.have.length(0);
        expect(
          answers.filter((a) => a?.status === 202).length,
          "no request was answered before the stop",
        ).to.be.greaterThan(0);
      } finally {
        await store.close();
      }
    });
  });

  describe("an underpriced transaction is replaced, reported at the cap, and confirmed", () => {
    let ex: ExecutorProcess;
    const relayerIndex = 13;

    before(async () => {
      await rpc(node.url, "evm_setAutomine", [false]);
      await rpc(node.url, "evm_setIntervalMining", [0]);
      ex = await startExecutorProcess(
        await executorEnv(node.url, {
          KEEPER_PRIVATE_KEY: devKey(relayerIndex),
          REPLACE_AFTER_MS: "1000",
          FEE_BUMP_PERCENT: "15",
          MAX_REPLACEMENTS: "1",
        }),
      );
    });
    after(async () => {
      await killAllExecutors();
    });

    it("raises both fees, reports the transaction stuck at the replacement cap, and it confirms once the base fee falls", async () => {
      const client = createPublicClient({ transport: http(node.url) });
      await rpc(node.url, "hardhat_setNextBlockBaseFeePerGas", ["0x3b9aca00"]); // 1 gwei
      await rpc(node.url, "evm_mine");
      const data = encodeFunctionData({ abi, functionName: "ping", args: [700n, "underpriced"] });
      const r = await api(ex.url, "POST", "/tx/execute", keeperTx("underpriced", emitter, data), {
        token: KEEPER_TOKEN,
      });
      expect(r.status).to.equal(202);
      const id = r.body.id as string;

      // Each block: a base fee just above what the current attempt offers, so it cannot be included.
      const seen = new Set<Hex>();
      const deadline = Date.now() + 30_000;
      let events: string[] = [];
      while (!events.includes("stuck")) {
        if (Date.now() > deadline) throw new Error(`never reported stuck: ${events.join(", ")}`);
        const s = await api(ex.url, "GET", `/tx/status/${id}`);
        if (s.body.hash) {
          const hash = s.body.hash as Hex;
          seen.add(hash);
          // A replacement is stored before it is sent: it may not have reached the node yet.
          const tx = await client.getTransaction({ hash }).catch(() => undefined);
          if (tx) {
            await rpc(node.url, "hardhat_setNextBlockBaseFeePerGas", [`0x${(tx.maxFeePerGas! + 1n).toString(16)}`]);
            await rpc(node.url, "evm_mine");
          }
        }
        await new Promise((res) => setTimeout(res, 250));
        events = ((await api(ex.url, "GET", `/tx/audit/${id}`)).body.entries as { event: string }[]).map(
          (e) => e.event,
        );
      }
      const trail = (await api(ex.url, "GET", `/tx/audit/${id}`)).body.entries as {
        event: string;
        detail?: Record<string, string>;
      }[];
      const signed = trail.find((e) => e.event === "signed")!.detail!;
      const replaced = trail.find((e) => e.event === "replaced")!.detail!;
      expect(BigInt(replaced.maxFeePerGas!) * 100n >= BigInt(signed.maxFeePerGas!) * 115n).to.equal(true);
      expect(BigInt(replaced.maxPriorityFeePerGas!) * 100n >= BigInt(signed.maxPriorityFeePerGas!) * 115n).to.equal(
        true,
      );
      expect(replaced.replaces).to.equal(signed.hash);

      // Blocks as usual again: the base fee falls 12.5 % a block until the replacement fits.
      await rpc(node.url, "evm_setIntervalMining", [200]);
      const final = (await waitFinal(ex.url, [id], 30_000)).get(id)!;
      expect(final.status).to.equal("confirmed");
      expect(final.attempts).to.equal(2);
      expect(final.hash).to.equal(replaced.hash);
      expect(seen.has(signed.hash as Hex)).to.equal(true);
      // The original was never mined; only one transaction of the sender exists.
      const original = await client.getTransactionReceipt({ hash: signed.hash as Hex }).catch(() => undefined);
      expect(original).to.equal(undefined);
      expect(await client.getTransactionCount({ address: devAddress(relayerIndex) })).to.equal(1);
      expect((await pingCounts(node.url, emitter)).get(700n)).to.equal(1);
      const metrics = await (await fetch(`${ex.url}/metrics`)).text();
      expect(metrics).to.match(/covenant_tx_executor_replacements_total\{[^}]*\} 1/);
      expect(metrics).to.match(/covenant_tx_executor_stuck_total\{[^}]*\} 1/);
    });
  });
});
