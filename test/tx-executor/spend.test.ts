import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { encodeFunctionData, type Hex, parseAbi } from "viem";
import { anomalyReportSchema } from "../../keepers/spending/keeper";
import { spendRequestBody } from "../../keepers/tx-executor/client";
import { buildSpend, ETH, fromEthersSigner, SpendNonces, signAction } from "../../sdk";
import { deploySpending, ETH_DAILY, ETH_PER_TX, type SpendingFixture, signSpend } from "../fixtures/spending";
import { startTcpProxy, type TcpProxy } from "../helpers/tcpProxy";
import {
  api,
  devKey,
  type ExecutorProcess,
  executorEnv,
  killAllExecutors,
  startExecutorProcess,
  startInProcess,
  waitFinal,
} from "./helpers";

/*
 * Agents' signed spends through the executor, against the SpendingLimitModule deployed by the same
 * Ignition modules and fixture as the module's own tests. The in-process Hardhat network is served
 * over JSON-RPC (the server `hardhat node` uses), so the executor reaches it like any chain.
 */

const RELAYER = 16; // a dev account the fixture does not use
const SENTINEL = 13; // the fixture's sentinel key

describe("tx-executor: agent spends under the SpendingLimitModule", function () {
  this.timeout(120_000);
  let f: SpendingFixture;
  let server: JsonRpcServer;
  let rpcUrl: string;
  const nonces = new SpendNonces();

  before(async () => {
    f = await loadFixture(deploySpending);
    server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider as never });
    const { port } = await server.listen();
    rpcUrl = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await killAllExecutors();
    await server?.close();
  });

  const sign = (fields: Parameters<typeof signSpend>[1], signer = f.agentSigner) =>
    signSpend(f, { nonce: nonces.next(), ...fields }, signer);
  const balance = (a: string) => hre.ethers.provider.getBalance(a);
  const relayerAddress = () => hre.ethers.getAddress(new hre.ethers.Wallet(devKey(RELAYER)).address);

  /** What a refused request must leave untouched: the Safe, the day's allowance, the relayer's nonce. */
  async function chainState() {
    return {
      safeEth: await balance(f.safe),
      remaining: await f.module.remainingToday(f.agentId, ETH),
      relayerNonce: await hre.ethers.provider.getTransactionCount(relayerAddress()),
    };
  }

  describe("bad input: each a clear error, nothing sent, nothing spent (executor process)", () => {
    let ex: ExecutorProcess;
    before(async () => {
      ex = await startExecutorProcess(
        await executorEnv(rpcUrl, {
          KEEPER_PRIVATE_KEY: devKey(RELAYER),
          SPENDING_MODULE: f.moduleAddress,
          SENTINEL_PRIVATE_KEY: devKey(SENTINEL),
          BREAKER_OVER_CAP_REFUSALS: "1000",
          BREAKER_UNKNOWN_TARGET_REFUSALS: "1000",
        }),
      );
    });
    after(async () => {
      await ex?.stop();
    });

    const post = (body: unknown, raw?: string) => api(ex.url, "POST", "/tx/execute", body, raw ? { raw } : {});

    /** Sends, checks status and code, and that the chain did not move. Returns the error body. */
    async function refused(body: unknown, status: number, code: string, message: RegExp, raw?: string) {
      const before = await chainState();
      const r = await post(body, raw);
      const error = r.body.error as { code: string; message: string; id?: string };
      expect(r.status, JSON.stringify(r.body)).to.equal(status);
      expect(error.code).to.equal(code);
      expect(error.message).to.match(message);
      expect(await chainState()).to.deep.equal(before);
      if (error.id) {
        const s = await api(ex.url, "GET", `/tx/status/${error.id}`);
        expect(s.body.status).to.equal("rejected");
        expect(s.body.nonce).to.equal(undefined);
        expect(s.body.hash).to.equal(undefined);
        const trail = (await api(ex.url, "GET", `/tx/audit/${error.id}`)).body.entries as {
          event: string;
          code?: string;
        }[];
        expect(trail.map((e) => e.event)).to.deep.equal(["received", "rejected"]);
        expect(trail[1]!.code).to.equal(code);
      }
      return error;
    }

    it("spends within the limits: confirmed once, the Safe pays, the relayer's gas is recorded for the agent", async () => {
      const signed = await sign({ to: f.recipient.address, amount: ETH_PER_TX / 2n });
      const recipientBefore = await balance(f.recipient.address);
      const r = await post(spendRequestBody("ok-1", signed));
      expect(r.status, JSON.stringify(r.body)).to.equal(202);
      const id = r.body.id as string;
      const final = (await waitFinal(ex.url, [id])).get(id)!;
      expect(final.status).to.equal("confirmed");
      expect(final.kind).to.equal("spend");
      expect(final.agentId).to.equal(f.agentId.toString());
      expect((await balance(f.recipient.address)) - recipientBefore).to.equal(ETH_PER_TX / 2n);
      expect(await f.module.isNonceUsed(f.agentId, signed.message.nonce as bigint)).to.equal(true);
      const receipt = await hre.ethers.provider.getTransactionReceipt(final.hash as string);
      const gas = await api(ex.url, "GET", `/agents/${f.agentId}/gas`);
      expect(gas.body).to.deep.equal({
        agentId: f.agentId.toString(),
        transactions: 1,
        gasUsed: receipt!.gasUsed.toString(),
        costWei: (receipt!.gasUsed * receipt!.gasPrice).toString(),
        unchargedTransactions: 1,
        unchargedWei: (receipt!.gasUsed * receipt!.gasPrice).toString(),
      });
      // The same key and body: the first result. The same key, another body: 409.
      const again = await post(spendRequestBody("ok-1", signed));
      expect(again.status).to.equal(200);
      expect(again.body.id).to.equal(id);
      const other = await sign({ to: f.recipient.address, amount: 1n });
      await refused(
        spendRequestBody("ok-1", other),
        409,
        "idempotency_conflict",
        /already used for a different request/,
      );
    });

    it("malformed JSON: 400 invalid_json (audited and counted)", async () => {
      await refused(undefined, 400, "invalid_json", /not valid JSON/, '{"kind": "spend", ');
      const metrics = await (await fetch(`${ex.url}/metrics`)).text();
      expect(metrics).to.match(
        /covenant_tx_executor_requests_total\{[^}]*outcome="rejected",reason="invalid_json"[^}]*\} 1/,
      );
    });

    it("wrong types: 400 invalid_request naming the field", async () => {
      const signed = await sign({ to: f.recipient.address, amount: 1n });
      const body = spendRequestBody("types", signed) as { spend: Record<string, unknown> };
      body.spend.amount = 1; // a JSON number where a decimal string is required
      const error = await refused(body, 400, "invalid_request", /spend\.amount: expected amount as a decimal string/);
      expect((error as unknown as { issues: { path: string }[] }).issues.map((i) => i.path)).to.deep.equal([
        "spend.amount",
      ]);
      await refused({ kind: "transfer" }, 400, "invalid_request", /kind must be "spend" or "keeper"/);
    });

    it("unknown agent: 404 unknown_agent", async () => {
      const typed = buildSpend(f.deployment, {
        agentId: 999n,
        to: f.recipient.address as Hex,
        amount: 1n,
        nonce: nonces.next(),
        deadline: BigInt(Math.floor(Date.now() / 1000) + 86_400 * 365),
        gas: 60_000n,
      });
      const signed = await signAction(f.agentSigner, typed);
      await refused(spendRequestBody("unknown", signed), 404, "unknown_agent", /agent 999 does not exist/);
    });

    it("bad signature: 401 bad_signature", async () => {
      const stranger = await fromEthersSigner(f.stranger);
      const signed = await sign({ to: f.recipient.address, amount: 1n }, stranger);
      await refused(
        spendRequestBody("bad-sig", signed),
        401,
        "bad_signature",
        /signed by 0x[0-9a-fA-F]{40}, not by agent \d+'s signer/,
      );
    });

    it("an operator's key instead of the agent's: 403 not_agent_signer", async () => {
      const operator = await fromEthersSigner(f.operator);
      const signed = await sign({ to: f.recipient.address, amount: 1n }, operator);
      await refused(
        spendRequestBody("operator", signed),
        403,
        "not_agent_signer",
        /operator .* not by its agent signer/,
      );
    });

    it("replayed: the same signed Spend under another key (409 spend_replayed), or a nonce used on chain (409 spend_nonce_used)", async () => {
      const signed = await sign({ to: f.recipient.address, amount: 2n });
      const first = await post(spendRequestBody("replay-a", signed));
      expect(first.status).to.equal(202);
      await waitFinal(ex.url, [first.body.id as string]);
      const error = await refused(
        spendRequestBody("replay-b", signed),
        409,
        "spend_replayed",
        /already submitted under another idempotency key/,
      );
      expect((error as unknown as { existingId: string }).existingId).to.equal(first.body.id);
      // Used on chain without the executor (the agent spent it directly through another relayer).
      const direct = await sign({ to: f.recipient.address, amount: 3n });
      const m = direct.message as Record<string, bigint | string>;
      await f.module
        .connect(f.stranger)
        .spendBySig(
          f.agentId,
          m.token as string,
          m.to as string,
          m.amount!,
          m.nonce!,
          m.deadline!,
          m.gas!,
          direct.signature,
        );
      await refused(spendRequestBody("replay-c", direct), 409, "spend_nonce_used", /already used on chain/);
    });

    it("over the per-transaction cap: 422 over_tx_cap, before the chain", async () => {
      const signed = await sign({ to: f.recipient.address, amount: ETH_PER_TX + 1n });
      await refused(
        spendRequestBody("over-tx", signed),
        422,
        "over_tx_cap",
        /above agent \d+'s per-transaction cap of 1000000000000000000/,
      );
    });

    it("over what is left of the day, counting spends still in flight: 422 over_daily_cap", async () => {
      const left = await f.module.remainingToday(f.agentId, ETH);
      // Spend all that is left in cap-sized pieces at once, and one wei more.
      const pieces: bigint[] = [];
      let rest = left;
      while (rest > ETH_PER_TX) {
        pieces.push(ETH_PER_TX);
        rest -= ETH_PER_TX;
      }
      if (rest > 0n) pieces.push(rest);
      const amounts = [...pieces, 1n];
      const signed = await Promise.all(amounts.map((amount) => sign({ to: f.recipient.address, amount })));
      const results = await Promise.all(signed.map((s, i) => post(spendRequestBody(`daily-${i}`, s))));
      // Any three fit, all four do not: exactly one is refused, whichever came last.
      const refusedAt = results.flatMap((r, i) => (r.status === 422 ? [i] : []));
      expect(refusedAt, JSON.stringify(results.map((r) => r.body))).to.have.length(1);
      expect((results[refusedAt[0]!]!.body.error as { code: string }).code).to.equal("over_daily_cap");
      const accepted = results.filter((r) => r.status === 202).map((r) => r.body.id as string);
      expect(accepted).to.have.length(pieces.length);
      for (const rec of (await waitFinal(ex.url, accepted)).values()) expect(rec.status).to.equal("confirmed");
      // Nothing reverted on chain: what is left is exactly what the refused spend would have taken, less 1 wei.
      expect(await f.module.remainingToday(f.agentId, ETH)).to.equal(amounts[refusedAt[0]!]! - 1n);
      expect(left).to.be.lessThan(ETH_DAILY);
    });

    it("a call to a target or selector not allowed: 422 call_not_allowed", async () => {
      const data = encodeFunctionData({
        abi: parseAbi(["function transfer(address,uint256)"]),
        args: [f.recipient.address as Hex, 1n],
      });
      const signed = await sign({ to: f.targetAddress, amount: 0n, data });
      await refused(
        spendRequestBody("call", signed),
        422,
        "call_not_allowed",
        /may not call 0x[0-9a-fA-F]{40} with selector 0xa9059cbb/,
      );
    });

    it("an expired Spend: 422 expired", async () => {
      const block = await hre.ethers.provider.getBlock("latest");
      const signed = await sign({ to: f.recipient.address, amount: 1n, deadline: BigInt(block!.timestamp + 5) });
      await refused(spendRequestBody("expired", signed), 422, "expired", /deadline .* is passed or within 30 s/);
    });

    it("a frozen agent: 422 agent_frozen", async () => {
      const snapshot = await hre.network.provider.request({ method: "evm_snapshot" });
      await f.module.connect(f.operator).freeze(f.agentId);
      const signed = await sign({ to: f.recipient.address, amount: 1n, token: f.tokenAddress });
      await refused(spendRequestBody("frozen", signed), 422, "agent_frozen", /agent \d+ is frozen/);
      await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
    });
  });

  describe("a spend sent while the chain is unreachable (executor process behind a TCP proxy)", () => {
    let ex: ExecutorProcess;
    let proxy: TcpProxy;
    before(async () => {
      // A new UTC day: the tests above may have used up (or still hold in flight) today's allowance.
      const latest = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
      await time.increaseTo((Math.floor(latest / 86_400) + 1) * 86_400 + 60);
      const port = Number(new URL(rpcUrl).port);
      proxy = await startTcpProxy("127.0.0.1", port);
      ex = await startExecutorProcess(
        await executorEnv(proxy.url(), {
          KEEPER_PRIVATE_KEY: devKey(RELAYER),
          SPENDING_MODULE: f.moduleAddress,
          RPC_TIMEOUT_MS: "1000",
        }),
      );
    });
    after(async () => {
      await ex?.stop();
      await proxy?.close();
    });

    it("is stored, checked once the chain is back, and confirmed; the executor keeps running", async () => {
      const signed = await sign({ to: f.recipient.address, amount: ETH_PER_TX / 4n });
      const recipientBefore = await balance(f.recipient.address);
      proxy.drop();
      const r = await api(ex.url, "POST", "/tx/execute", spendRequestBody("outage-1", signed));
      expect(r.status, JSON.stringify(r.body)).to.equal(202);
      expect(r.body.status).to.equal("queued");
      expect(r.body.accepted).to.equal(false);
      proxy.resume();
      const id = r.body.id as string;
      const final = (await waitFinal(ex.url, [id], 60_000)).get(id)!;
      expect(final.status, JSON.stringify(final)).to.equal("confirmed");
      expect((await balance(f.recipient.address)) - recipientBefore).to.equal(ETH_PER_TX / 4n);
      const health = await api(ex.url, "GET", "/healthz");
      expect(health.status).to.equal(200);
    });
  });

  describe("rate limit", () => {
    let ex: Awaited<ReturnType<typeof startInProcess>>;
    before(async () => {
      ex = await startInProcess(
        await executorEnv(rpcUrl, {
          KEEPER_PRIVATE_KEY: devKey(RELAYER),
          SPENDING_MODULE: f.moduleAddress,
          AGENT_RATE_LIMIT: "3",
          AGENT_RATE_WINDOW_MS: "60000",
        }),
      );
    });
    after(async () => {
      await ex?.stop();
    });

    it("more requests than the agent's limit: 429 rate_limited with Retry-After; replays are still answered", async () => {
      const statuses: number[] = [];
      const bodies: ReturnType<typeof spendRequestBody>[] = [];
      let limited: Awaited<ReturnType<typeof api>> | undefined;
      for (let i = 0; i < 4; i++) {
        const signed = await sign({ to: f.recipient.address, amount: 1n, token: f.tokenAddress });
        bodies.push(spendRequestBody(`rate-${i}`, signed));
        const r = await api(ex.url, "POST", "/tx/execute", bodies[i]);
        statuses.push(r.status);
        if (r.status === 429) limited = r;
      }
      expect(statuses).to.deep.equal([202, 202, 202, 429]);
      expect((limited!.body.error as { code: string }).code).to.equal("rate_limited");
      expect(Number(limited!.headers.get("retry-after"))).to.be.within(1, 60);
      const first = await api(ex.url, "GET", `/agents/${f.agentId}/keys/rate-0`);
      const replay = await api(ex.url, "POST", "/tx/execute", bodies[0]);
      expect(replay.status).to.equal(200);
      expect(replay.body.id).to.equal(first.body.id);
    });
  });

  describe("circuit breaker", () => {
    let ex: Awaited<ReturnType<typeof startInProcess>>;
    // The spending keeper's POST /anomalies, as a stand-in that checks each report against its schema.
    const reports: { auth?: string; body: unknown; valid: boolean }[] = [];
    let receiver: Server;
    before(async () => {
      receiver = createServer((req, res) => {
        let text = "";
        req.on("data", (c) => {
          text += c;
        });
        req.on("end", () => {
          const body = JSON.parse(text) as unknown;
          reports.push({ auth: req.headers.authorization, body, valid: anomalyReportSchema.safeParse(body).success });
          res.writeHead(202, { "content-type": "application/json" });
          res.end(JSON.stringify({ id: String(reports.length), duplicate: false }));
        });
      });
      await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
      const port = (receiver.address() as AddressInfo).port;
      ex = await startInProcess(
        await executorEnv(rpcUrl, {
          KEEPER_PRIVATE_KEY: devKey(RELAYER),
          SPENDING_MODULE: f.moduleAddress,
          SENTINEL_PRIVATE_KEY: devKey(SENTINEL),
          BREAKER_OVER_CAP_REFUSALS: "3",
          ANOMALY_URL: `http://127.0.0.1:${port}`,
          ANOMALY_TOKEN: "anomaly-token-0123456789abcdef",
        }),
      );
    });
    after(async () => {
      await ex?.stop();
      await new Promise<void>((r) => receiver.close(() => r()));
    });

    it("a burst of over-cap spends blocks the agent here and has the sentinel freeze it on chain", async () => {
      expect((await f.module.agentState(f.agentId)).frozen).to.equal(false);
      for (let i = 0; i < 3; i++) {
        const signed = await sign({ to: f.recipient.address, amount: ETH_PER_TX * 2n });
        const r = await api(ex.url, "POST", "/tx/execute", spendRequestBody(`burst-${i}`, signed));
        expect((r.body.error as { code: string }).code).to.equal("over_tx_cap");
      }
      // Blocked here at once; frozen on chain by the sentinel's transaction.
      const signed = await sign({ to: f.recipient.address, amount: 1n });
      const r = await api(ex.url, "POST", "/tx/execute", spendRequestBody("after-trip", signed));
      expect(r.status).to.equal(403);
      expect((r.body.error as { code: string }).code).to.equal("agent_blocked");
      expect((r.body.error as { message: string }).message).to.match(/3 refused over-cap spends/);
      const deadline = Date.now() + 20_000;
      while (!(await f.module.agentState(f.agentId)).frozen) {
        if (Date.now() > deadline) throw new Error("the sentinel never froze the agent");
        await new Promise((res) => setTimeout(res, 100));
      }
      const frozen = await f.module.queryFilter(f.module.filters.AgentFrozen(f.agentId));
      expect(frozen.at(-1)!.args.by).to.equal(f.sentinel.address);
      // And the spending keeper was told: each refusal, then the burst.
      const until = Date.now() + 10_000;
      while (reports.length < 4 && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
      const bodies = reports.map((r) => r.body as { agentId: string; signal: string; key: string });
      expect(bodies.map((b) => b.signal)).to.deep.equal([
        "refused_spend",
        "refused_spend",
        "refused_spend",
        "refused_burst",
      ]);
      expect(reports.every((r) => r.valid && r.auth === "Bearer anomaly-token-0123456789abcdef")).to.equal(true);
      expect(new Set(bodies.map((b) => b.agentId))).to.deep.equal(new Set([f.agentId.toString()]));
      expect(new Set(bodies.map((b) => b.key)).size).to.equal(4);
    });
  });
});
