import { expect } from "chai";
import { encodeFunctionData, type Hex } from "viem";
import { type HardhatNode, startHardhatNode } from "../helpers/hardhatNode";
import { compileEmitter, deployEmitter } from "../helpers/testContract";
import { api, executorEnv, KEEPER_TOKEN, keeperTx, OTHER_KEEPER_TOKEN, startInProcess, waitFinal } from "./helpers";

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
    ex = await startInProcess(await executorEnv(node.url));
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
});
