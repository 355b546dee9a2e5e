import { expect } from "chai";
import { Client } from "pg";
import { encodeFunctionData, type Hex } from "viem";
import { type HardhatNode, startHardhatNode } from "../helpers/hardhatNode";
import { compileEmitter, deployEmitter } from "../helpers/testContract";
import { uniqueName } from "../helpers/tmp";
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
 * Three executor processes share one PostgreSQL database and one relayer key. Every request is sent
 * to two of them at once, and one of them is killed (SIGKILL) half way. Row locks (the sender's
 * nonce row, FOR UPDATE SKIP LOCKED on requests) and unique indexes, not timing, must keep any nonce
 * from being used twice and any request from being signed twice. Runs when DATABASE_URL is set.
 */
const REQUESTS = Number(process.env.EXECUTOR_INSTANCES_REQUESTS ?? 120);

describe("tx-executor: three instances on one PostgreSQL and one relayer key", function () {
  this.timeout(180_000);
  const base = process.env.DATABASE_URL;
  let node: HardhatNode;
  let emitter: Hex;
  let dbName: string;
  let databaseUrl: string;
  const instances: ExecutorProcess[] = [];
  const relayerIndex = 14;
  const { abi } = compileEmitter();
  const ping = (id: number) => encodeFunctionData({ abi, functionName: "ping", args: [BigInt(id), "three"] });

  before(async function () {
    if (!base) this.skip();
    // A database of its own: the executor's schemas have fixed names.
    dbName = uniqueName("covenant_executor").toLowerCase();
    const admin = new Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await admin.end();
    const url = new URL(base!);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
    await useIntervalMining(node.url, 300);
  });
  after(async () => {
    await killAllExecutors();
    await node?.stop();
    if (base && dbName) {
      const admin = new Client({ connectionString: base });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it("never uses a nonce twice nor sends a request twice, even with one instance killed", async () => {
    for (const name of ["a", "b", "c"]) {
      const env = await executorEnv(node.url, {
        DATABASE_URL: databaseUrl,
        INSTANCE_ID: name,
        KEEPER_PRIVATE_KEY: devKey(relayerIndex),
        MAX_IN_FLIGHT: "500",
        EVALUATION_CLAIM_MS: "2000",
      });
      instances.push(await startExecutorProcess(env));
    }
    const alive = () => instances.filter((_, i) => i !== 1 || !killedB);
    let killedB = false;
    let answered = 0;
    const ids = await pool([...Array(REQUESTS).keys()], 12, async (i) => {
      const body = keeperTx(`three-${i}`, emitter, ping(i));
      // The same request to two instances at once (after the kill: the two survivors).
      const pair = alive().length === 3 ? [instances[i % 3]!, instances[(i + 1) % 3]!] : alive();
      const results = await Promise.all(
        pair.map((inst) => api(inst.url, "POST", "/tx/execute", body, { token: KEEPER_TOKEN }).catch(() => undefined)),
      );
      const ok = results.filter((r) => r !== undefined && (r.status === 200 || r.status === 202));
      if (ok.length === 0) {
        // Both calls went to the instance being killed: send again to a survivor.
        const r = await api(instances[0]!.url, "POST", "/tx/execute", body, { token: KEEPER_TOKEN });
        ok.push(r);
      }
      const idsSeen = new Set(ok.map((r) => r!.body.id));
      expect(idsSeen.size, `request ${i}: two ids for one key`).to.equal(1);
      if (++answered === Math.floor(REQUESTS / 2) && !killedB) {
        killedB = true;
        await instances[1]!.kill9();
      }
      return ok[0]!.body.id as string;
    });
    const finals = await waitFinal(instances[0]!.url, ids, 90_000);
    const hashes = ids.map((id) => {
      expect(finals.get(id)!.status, JSON.stringify(finals.get(id))).to.equal("confirmed");
      return finals.get(id)!.hash as Hex;
    });
    const counts = await pingCounts(node.url, emitter);
    for (let i = 0; i < REQUESTS; i++) expect(counts.get(BigInt(i)), `ping ${i}`).to.equal(1);
    const report = await nonceReport(node.url, devAddress(relayerIndex), hashes);
    expect(report).to.include({ duplicates: 0, min: 0, max: REQUESTS - 1, count: REQUESTS });

    // From the store: each request signed exactly once, and the work really was shared.
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const twice = await db.query(
        `SELECT request_id FROM tx_executor.audit_log WHERE event = 'signed' GROUP BY request_id HAVING count(*) > 1`,
      );
      expect(twice.rowCount).to.equal(0);
      const byInstance = await db.query<{ instance: string; n: string }>(
        `SELECT instance, count(*) AS n FROM tx_executor.audit_log WHERE event = 'accepted' GROUP BY instance`,
      );
      expect(byInstance.rowCount, JSON.stringify(byInstance.rows)).to.be.greaterThan(1);
      const next = await db.query<{ next_nonce: string }>(`SELECT next_nonce FROM tx_executor.sender_nonces`);
      expect(next.rows.map((r) => Number(r.next_nonce))).to.deep.equal([REQUESTS]);
    } finally {
      await db.end();
    }
    for (const inst of [instances[0]!, instances[2]!]) expect(await inst.stop()).to.equal(0);
  });
});
