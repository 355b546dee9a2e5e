import { expect } from "chai";
import { encodeFunctionData, type Hex } from "viem";
import { type HardhatNode, startHardhatNode } from "../helpers/hardhatNode";
import { compileEmitter, deployEmitter } from "../helpers/testContract";
import {
  api,
  devAddress,
  devKey,
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
 * A real executor process is killed with SIGKILL while 200 requests are arriving, then started again
 * on the same database. Whatever had been accepted must end confirmed exactly once, every request
 * resent under its key must come back with its first result or be executed once, and the relayer's
 * nonces on chain must run without a gap.
 */
const REQUESTS = Number(process.env.EXECUTOR_CRASH_REQUESTS ?? 200);

describe("tx-executor: kill -9 in the middle of 200 requests, then restart", function () {
  this.timeout(180_000);
  let node: HardhatNode;
  let emitter: Hex;
  let ex: ExecutorProcess | undefined;
  const relayerIndex = 11;
  const { abi } = compileEmitter();
  const ping = (id: number) => encodeFunctionData({ abi, functionName: "ping", args: [BigInt(id), "crash"] });

  before(async () => {
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
    await useIntervalMining(node.url, 500);
  });
  after(async () => {
    await killAllExecutors();
    await node?.stop();
  });

  it("confirms every accepted request exactly once, with no nonce gap", async () => {
    const env = await executorEnv(node.url, { KEEPER_PRIVATE_KEY: devKey(relayerIndex), MAX_IN_FLIGHT: "500" });
    let t = Date.now();
    const lap = (what: string) => {
      if (process.env.EXECUTOR_TEST_TIMING) console.log(`      ${what}: ${Date.now() - t} ms`);
      t = Date.now();
    };
    ex = await startExecutorProcess(env);
    lap("start");
    const first = ex;
    const accepted = new Map<number, string>();
    let killed = false;
    const send = (i: number, url: string) =>
      api(url, "POST", "/tx/execute", keeperTx(`crash-${i}`, emitter, ping(i)), { token: KEEPER_TOKEN });

    // First run: 10 clients; SIGKILL once 40 % of the requests were answered.
    await pool([...Array(REQUESTS).keys()], 10, async (i) => {
      if (killed) return;
      try {
        const r = await send(i, first.url);
        if (r.status === 202 || r.status === 200) accepted.set(i, r.body.id as string);
        if (accepted.size >= REQUESTS * 0.4 && !killed) {
          killed = true;
          await first.kill9();
        }
      } catch {
        // connection refused or reset: the process is gone
      }
    });
    lap(`first run, ${accepted.size} accepted`);
    expect(killed).to.equal(true);
    expect(accepted.size).to.be.greaterThan(0);

    // Restart on the same database; every client resends every request under its key.
    ex = await startExecutorProcess(env);
    const second = ex;
    lap("restart");
    const ids = await pool([...Array(REQUESTS).keys()], 10, async (i) => {
      const r = await send(i, second.url);
      expect([200, 202], JSON.stringify(r.body)).to.include(r.status);
      if (accepted.has(i)) {
        expect(r.status, `request ${i} was accepted before the crash`).to.equal(200);
        expect(r.body.id).to.equal(accepted.get(i));
      }
      return r.body.id as string;
    });
    lap("resend");
    const finals = await waitFinal(second.url, ids, 120_000);
    lap("all final");
    const hashes: Hex[] = [];
    for (const id of ids) {
      const rec = finals.get(id)!;
      expect(rec.status, JSON.stringify(rec)).to.equal("confirmed");
      hashes.push(rec.hash as Hex);
    }

    lap("read finals");
    const counts = await pingCounts(node.url, emitter);
    for (let i = 0; i < REQUESTS; i++) expect(counts.get(BigInt(i)), `ping ${i}`).to.equal(1);
    const report = await nonceReport(node.url, devAddress(relayerIndex), hashes);
    expect(report.duplicates).to.equal(0);
    expect(report.min).to.equal(0);
    expect(report.max).to.equal(REQUESTS - 1);
    expect(report.count).to.equal(REQUESTS);

    lap("chain checks");
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).to.match(/covenant_tx_executor_nonce_gaps\{[^}]*\} 0/);
    expect(await second.stop()).to.equal(0);
    lap("graceful stop");
  });
});
