import { expect } from "chai";
import { encodeFunctionData, getAddress, type Hex } from "viem";
import { HttpSubmitter, Secret, SubmitError, submitterFromConfig } from "../../keepers/shared";
import { type HardhatNode, rpc, startHardhatNode } from "../helpers/hardhatNode";
import { compileEmitter, deployEmitter } from "../helpers/testContract";
import {
  api,
  devAddress,
  devKey,
  executorEnv,
  KEEPER_TOKEN,
  keeperTx,
  OTHER_KEEPER_TOKEN,
  pingCounts,
  startInProcess,
  waitFinal,
} from "./helpers";

describe("tx-executor: keeper transactions over HTTP", function () {
  this.timeout(90_000);
  let node: HardhatNode;
  let emitter: Hex;
  let ex: Awaited<ReturnType<typeof startInProcess>>;
  const { abi } = compileEmitter();
  const ping = (id: number, note = "") => encodeFunctionData({ abi, functionName: "ping", args: [BigInt(id), note] });

  before(async () => {
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
    // The backup keeper sends from its own role key; the others from the relayer key.
    ex = await startInProcess(await executorEnv(node.url, { KEEPER_KEYS: `backup=${devKey(5)}` }));
  });
  after(async () => {
    await ex?.stop();
    await node?.stop();
  });

  it("sends a keeper's transaction once and reports it confirmed with hash, nonce, gas and block", async () => {
    const r = await api(ex.url, "POST", "/tx/execute", keeperTx("k1", emitter, ping(1)), { token: KEEPER_TOKEN });
    expect(r.status, JSON.stringify(r.body)).to.equal(202);
    const id = r.body.id as string;
    const final = (await waitFinal(ex.url, [id])).get(id)!;
    expect(final.status).to.equal("confirmed");
    expect(final.hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(final.nonce).to.be.a("number");
    expect(BigInt(final.gasUsed as string) > 21_000n).to.equal(true);
    expect(final.blockNumber).to.be.a("string");
    const again = await api(ex.url, "POST", "/tx/execute", keeperTx("k1", emitter, ping(1)), { token: KEEPER_TOKEN });
    expect(again.status).to.equal(200);
    expect(again.body.id).to.equal(id);
    expect(again.body.hash).to.equal(final.hash);
    const trail = await api(ex.url, "GET", `/tx/audit/${id}`);
    expect((trail.body.entries as { event: string }[]).map((e) => e.event)).to.deep.equal([
      "received",
      "accepted",
      "signed",
      "broadcast",
      "confirmed",
    ]);
  });

  it("refuses another body under a used key (409) and scopes keys per keeper", async () => {
    const r = await api(ex.url, "POST", "/tx/execute", keeperTx("k1", emitter, ping(2)), { token: KEEPER_TOKEN });
    expect(r.status).to.equal(409);
    expect((r.body.error as { code: string }).code).to.equal("idempotency_conflict");
    const other = await api(ex.url, "POST", "/tx/execute", keeperTx("k1", emitter, ping(2)), {
      token: OTHER_KEEPER_TOKEN,
    });
    expect(other.status).to.equal(202);
    expect(other.body.from).to.equal(devAddress(5));
    const first = await api(ex.url, "GET", "/tx/keys/k1", undefined, { token: KEEPER_TOKEN });
    expect(first.body.from).to.equal(devAddress(1));
  });

  it("rejects a transaction that would revert, with the reason, and sends nothing", async () => {
    const data = encodeFunctionData({ abi, functionName: "fail", args: ["nope"] });
    const r = await api(ex.url, "POST", "/tx/execute", keeperTx("bad1", emitter, data), { token: KEEPER_TOKEN });
    expect(r.status).to.equal(422);
    const err = r.body.error as { code: string; message: string; revertReason: string; id: string };
    expect(err.code).to.equal("simulation_reverted");
    expect(err.revertReason).to.equal("nope");
    const status = await api(ex.url, "GET", `/tx/status/${err.id}`);
    expect(status.body.status).to.equal("rejected");
    expect(status.body.nonce).to.equal(undefined);
  });

  it("refuses a keeper transaction without a valid token (401)", async () => {
    const r = await api(ex.url, "POST", "/tx/execute", keeperTx("k9", emitter, ping(9)), {
      token: "wrong-token-xxxxxxxxxxxxxxxxxxx",
    });
    expect(r.status).to.equal(401);
    expect((r.body.error as { code: string }).code).to.equal("unauthorized");
  });

  describe("HttpSubmitter: a keeper's Submitter over the executor, chosen by configuration", () => {
    const intent = (key: string, id: number) => ({ key, to: emitter, data: ping(id) as Hex, label: `ping ${id}` });

    it("is what submitterFromConfig returns when TX_EXECUTOR_URL is set; the direct signer otherwise", async () => {
      const direct = { submit: async () => undefined, get: async () => undefined, wait: async () => undefined };
      const viaDirect = await submitterFromConfig({}, async () => direct as never);
      expect(viaDirect).to.equal(direct);
      const viaExecutor = await submitterFromConfig(
        { TX_EXECUTOR_URL: ex.url, TX_EXECUTOR_TOKEN: new Secret(KEEPER_TOKEN) },
        async () => direct as never,
      );
      expect(viaExecutor).to.be.instanceOf(HttpSubmitter);
      await expectRejects(
        () => submitterFromConfig({ TX_EXECUTOR_URL: ex.url }, async () => direct as never),
        /TX_EXECUTOR_TOKEN: required/,
      );
    });

    it("submits once per key, waits for the receipt, finds the record by id and by key", async () => {
      const s = new HttpSubmitter({ url: ex.url, token: KEEPER_TOKEN });
      const sent = await s.submit({ ...intent("hs-1", 41), agentId: "3" });
      expect(["queued", "submitted", "confirmed"]).to.include(sent.status);
      const done = await s.wait(sent.id, { pollIntervalMs: 50 });
      expect(done).to.deep.include({ status: "confirmed", key: "hs-1", agentId: "3", to: getAddress(emitter) });
      expect(done.gasUsed! > 0n).to.equal(true);
      expect((await s.get("hs-1"))!.id).to.equal(sent.id);
      expect((await s.get(sent.id))!.hash).to.equal(done.hash);
      expect((await s.submit({ ...intent("hs-1", 41), agentId: "3" })).id).to.equal(sent.id);
      const conflict = await s.submit(intent("hs-1", 42)).catch((e: unknown) => e);
      expect(conflict).to.be.instanceOf(SubmitError);
      expect((conflict as SubmitError).code).to.equal("IDEMPOTENCY_CONFLICT");
      expect(await s.get("never-used")).to.equal(undefined);
    });

    it("returns a rejected record, with the reason, for an intent that would revert", async () => {
      const s = new HttpSubmitter({ url: ex.url, token: KEEPER_TOKEN });
      const data = encodeFunctionData({ abi, functionName: "fail", args: ["not now"] });
      const r = await s.submit({ key: "hs-revert", to: emitter, data });
      expect(r).to.deep.include({ status: "rejected", revertReason: "not now" });
      expect(r.nonce).to.equal(undefined);
    });

    it("fails fast on a wrong token, and reports an unreachable executor as retryable", async () => {
      const wrong = new HttpSubmitter({ url: ex.url, token: "x".repeat(30) });
      await expectRejects(
        () => wrong.submit(intent("hs-token", 43)),
        /TX_EXECUTOR_TOKEN: the tx-executor does not accept this token/,
      );
      const down = new HttpSubmitter({ url: "http://127.0.0.1:9", token: KEEPER_TOKEN, retries: 0 });
      const err = await down.submit(intent("hs-down", 44)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SubmitError);
      expect((err as SubmitError).retryable).to.equal(true);
      expect((err as SubmitError).code).to.equal("EXECUTOR_UNREACHABLE");
    });
  });

  describe("a reorg takes the block of a transaction not yet deep enough", () => {
    let deep: Awaited<ReturnType<typeof startInProcess>>;
    before(async () => {
      await rpc(node.url, "evm_setAutomine", [false]);
      await rpc(node.url, "evm_setIntervalMining", [0]);
      deep = await startInProcess(
        await executorEnv(node.url, { KEEPER_PRIVATE_KEY: devKey(6), CONFIRMATIONS: "3", REBROADCAST_AFTER_MS: "500" }),
      );
    });
    after(async () => {
      await deep?.stop();
      await rpc(node.url, "evm_setAutomine", [true]);
    });

    it("follows the transaction again, sends it again, and confirms it once at depth", async () => {
      const snapshot = await rpc<string>(node.url, "evm_snapshot");
      const r = await api(deep.url, "POST", "/tx/execute", keeperTx("reorg-1", emitter, ping(77)), {
        token: KEEPER_TOKEN,
      });
      expect(r.status).to.equal(202);
      const id = r.body.id as string;
      const statusOf = async () => (await api(deep.url, "GET", `/tx/status/${id}`)).body;
      const until = async (pred: () => Promise<boolean>, what: string) => {
        const t = Date.now() + 15_000;
        while (!(await pred())) {
          if (Date.now() > t) throw new Error(`timed out waiting: ${what}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      };
      await until(async () => (await statusOf()).status === "submitted", "submitted");
      await rpc(node.url, "evm_mine"); // mined at depth 1 of the 3 required
      await new Promise((res) => setTimeout(res, 800)); // the executor sees it
      expect((await statusOf()).status).to.equal("submitted");
      await rpc(node.url, "evm_revert", [snapshot]); // the block and the transaction are gone
      // The executor notices, broadcasts the same signed bytes again, and confirms at depth 3.
      await until(async () => {
        await rpc(node.url, "evm_mine");
        return (await statusOf()).status === "confirmed";
      }, "confirmed after the reorg");
      const final = await statusOf();
      const block = await rpc<{ hash: string }>(node.url, "eth_getBlockByNumber", [
        `0x${BigInt(final.blockNumber as string).toString(16)}`,
        false,
      ]);
      expect(final.blockHash).to.equal(block.hash);
      expect(final.attempts).to.equal(1);
      expect((await pingCounts(node.url, emitter)).get(77n)).to.equal(1);
      const trail = (await api(deep.url, "GET", `/tx/audit/${id}`)).body.entries as { event: string }[];
      expect(trail.map((e) => e.event)).to.include("reorged");
    });
  });
});

async function expectRejects(fn: () => Promise<unknown>, message: RegExp): Promise<void> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a rejection").to.be.instanceOf(Error);
  expect((err as Error).message).to.match(message);
}
