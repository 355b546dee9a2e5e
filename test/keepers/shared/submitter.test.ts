import { expect } from "chai";
import {
  type Chain,
  createPublicClient,
  custom,
  encodeFunctionData,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  type Transport,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { DirectSubmitter, type DirectSubmitter as DirectSubmitterType } from "../../../keepers/shared/directSubmitter";
import { SubmitError } from "../../../keepers/shared/errors";
import { openStore } from "../../../keepers/shared/store";
import { parseTxIntent, type TxIntent, txRecordFromJson, txRecordToJson } from "../../../keepers/shared/submitter";
import { rpc, useHardhatNode } from "../../helpers/hardhatNode";
import { DEV_KEYS, devWallet } from "../../helpers/testContract";
import { uniqueName } from "../../helpers/tmp";
import { type ChainFixture, chainFixture, closeFixture } from "./fixtures/chainSetup";

/** A client whose eth_sendRawTransaction fails: before reaching the node ("down") or after it ("lost"). */
function faultyClient(url: string, chain: Chain, fault: "down" | "lost"): PublicClient<Transport, Chain> {
  const upstream = http(url)({});
  return createPublicClient({
    chain,
    cacheTime: 0,
    transport: custom(
      {
        async request({ method, params }) {
          if (method === "eth_sendRawTransaction") {
            if (fault === "lost") await upstream.request({ method, params } as never);
            throw Object.assign(new TypeError("fetch failed"), {
              cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
            });
          }
          return upstream.request({ method, params } as never);
        },
      },
      { retryCount: 0 },
    ),
  }) as PublicClient<Transport, Chain>;
}

describe("keepers/shared DirectSubmitter", function () {
  this.timeout(60_000);
  const node = useHardhatNode();
  let f: ChainFixture;
  const account = privateKeyToAccount(DEV_KEYS[1]);

  before(async () => {
    f = await chainFixture(node());
  });
  after(async () => closeFixture(f));

  function submitter(options: Partial<ConstructorParameters<typeof DirectSubmitter>[0]> = {}): DirectSubmitterType {
    return new DirectSubmitter({
      store: f.store,
      schema: f.schema,
      publicClient: f.client,
      account,
      confirmations: 1,
      errorAbi: f.abi,
      ...options,
    });
  }

  const pingIntent = (key: string, id: bigint, note = ""): TxIntent => ({
    key,
    to: f.emitter,
    data: encodeFunctionData({ abi: f.abi, functionName: "ping", args: [id, note] }),
    label: `ping ${id}`,
  });

  async function pingsWithId(id: bigint): Promise<number> {
    const logs = await f.client.getContractEvents({
      address: f.emitter,
      abi: f.abi,
      eventName: "Ping",
      args: { id },
      fromBlock: 0n,
    });
    return logs.length;
  }

  const nonceOf = (blockTag: "latest" | "pending" = "latest") =>
    f.client.getTransactionCount({ address: account.address, blockTag });

  it("sends an intent once and waits for its receipt", async () => {
    const s = submitter();
    const before = await nonceOf();
    const sent = await s.submit({ ...pingIntent(uniqueName("send"), 1n), agentId: "7" });
    expect(sent.status).to.equal("submitted");
    expect(sent.nonce).to.equal(before);
    expect(sent.hash).to.match(/^0x[0-9a-f]{64}$/);
    const done = await s.wait(sent.id, { pollIntervalMs: 20 });
    expect(done).to.deep.include({
      status: "confirmed",
      id: sent.id,
      hash: sent.hash,
      nonce: before,
      agentId: "7",
      label: "ping 1",
    });
    const receipt = await f.client.getTransactionReceipt({ hash: sent.hash! });
    expect(done.blockNumber).to.equal(receipt.blockNumber);
    expect(done.gasUsed).to.equal(receipt.gasUsed);
    expect(done.effectiveGasPrice).to.equal(receipt.effectiveGasPrice);
    expect(await pingsWithId(1n)).to.equal(1);
    expect(await s.get(sent.key)).to.deep.equal(done);
    expect(txRecordFromJson(JSON.parse(JSON.stringify(txRecordToJson(done))))).to.deep.equal(done);
  });

  it("returns the existing record for a repeated key and refuses another body under it", async () => {
    const s = submitter();
    const intent = pingIntent(uniqueName("idem"), 2n);
    const first = await s.submit(intent);
    await s.wait(first.id, { pollIntervalMs: 20 });
    const nonce = await nonceOf();
    const again = await s.submit(intent);
    expect(again.id).to.equal(first.id);
    expect(again.hash).to.equal(first.hash);
    expect(again.status).to.equal("confirmed");
    expect(await nonceOf()).to.equal(nonce);
    const conflict = (await s
      .submit({ ...intent, data: pingIntent("x", 3n).data })
      .catch((e: unknown) => e)) as SubmitError;
    expect(conflict).to.be.instanceOf(SubmitError);
    expect(conflict.code).to.equal("IDEMPOTENCY_CONFLICT");
    expect(conflict.retryable).to.equal(false);
    expect(await pingsWithId(2n)).to.equal(1);
    expect(await pingsWithId(3n)).to.equal(0);
  });

  it("rejects a reverting intent with its decoded reason, without using a nonce or gas", async () => {
    const s = submitter();
    const nonce = await nonceOf("pending");
    const balance = await f.client.getBalance({ address: account.address });
    const custom = await s.submit({
      key: uniqueName("refuse"),
      to: f.emitter,
      data: encodeFunctionData({ abi: f.abi, functionName: "refuse", args: [7n] }),
    });
    expect(custom.status).to.equal("rejected");
    expect(custom.revertReason).to.equal(`Refused(7, ${account.address})`);
    expect(custom.hash).to.equal(undefined);
    expect(custom.nonce).to.equal(undefined);
    const reason = await submitter({ errorAbi: undefined }).submit({
      key: uniqueName("fail"),
      to: f.emitter,
      data: encodeFunctionData({ abi: f.abi, functionName: "fail", args: ["not today"] }),
    });
    expect(reason.revertReason).to.equal("not today");
    const panic = await s.submit({
      key: uniqueName("div"),
      to: f.emitter,
      data: encodeFunctionData({ abi: f.abi, functionName: "divide", args: [1n, 0n] }),
    });
    expect(panic.revertReason).to.equal("panic 0x12 (division or modulo by zero)");
    expect(await nonceOf("pending")).to.equal(nonce);
    expect(await f.client.getBalance({ address: account.address })).to.equal(balance);
    // A rejected key is tried again on the next submit (nothing was sent), keeping its id.
    const retried = await s.submit({
      key: custom.key,
      to: f.emitter,
      data: encodeFunctionData({ abi: f.abi, functionName: "refuse", args: [7n] }),
    });
    expect(retried).to.deep.include({ id: custom.id, status: "rejected" });
    expect(await s.wait(custom.id)).to.deep.include({ status: "rejected" });
  });

  it("rejects an intent the account cannot pay for, without using a nonce", async () => {
    const poor = privateKeyToAccount(generatePrivateKey());
    const s = submitter({ account: poor });
    const r = await s.submit(pingIntent(uniqueName("poor"), 4n));
    expect(r.status).to.equal("rejected");
    expect(r.error).to.match(/^insufficient funds: 0x[0-9a-fA-F]{40} has 0 wei, needs up to \d+ wei$/);
    expect(await f.client.getTransactionCount({ address: poor.address, blockTag: "pending" })).to.equal(0);
  });

  it("is exactly-once across a crash before the broadcast: a new instance sends the same signed tx", async () => {
    const intent = pingIntent(uniqueName("crash-before"), 10n);
    const nonce = await nonceOf();
    const crashed = submitter({ publicClient: faultyClient(node().url, f.chain.chain, "down") });
    const stored = await crashed.submit(intent);
    expect(stored.status).to.equal("queued");
    expect(stored.error).to.match(/^broadcast failed: /);
    expect(stored.nonce).to.equal(nonce);
    expect(await nonceOf("pending")).to.equal(nonce); // nothing reached the node

    // Restart: a fresh submitter on the same store, with a working RPC.
    const restarted = await DirectSubmitter.start({
      store: f.store,
      schema: f.schema,
      publicClient: f.client,
      account,
      confirmations: 1,
    });
    const again = await restarted.submit(intent);
    expect(again.id).to.equal(stored.id);
    const done = await restarted.wait(stored.id, { pollIntervalMs: 20 });
    expect(done).to.deep.include({ status: "confirmed", hash: stored.hash, nonce });
    expect(await pingsWithId(10n)).to.equal(1);
    expect(await nonceOf()).to.equal(nonce + 1);
  });

  it("is exactly-once when the broadcast reached the node but the answer was lost", async () => {
    const intent = pingIntent(uniqueName("crash-after"), 11n);
    const nonce = await nonceOf();
    const stored = await submitter({ publicClient: faultyClient(node().url, f.chain.chain, "lost") }).submit(intent);
    expect(stored.status).to.equal("queued");
    expect(await nonceOf()).to.equal(nonce + 1); // it was mined (automine) although we never heard back

    const restarted = submitter();
    const recovered = await restarted.recover();
    expect(recovered).to.deep.equal({ open: 1, broadcast: 0, finished: 1 });
    const done = await restarted.get(stored.id);
    expect(done).to.deep.include({ status: "confirmed", hash: stored.hash, nonce });
    expect(await restarted.submit(intent)).to.deep.include({ id: stored.id, status: "confirmed" });
    expect(await pingsWithId(11n)).to.equal(1);
    expect(await nonceOf()).to.equal(nonce + 1);
  });

  it("marks a stored transaction failed when another transaction took its nonce, and moves on", async () => {
    const intent = pingIntent(uniqueName("taken"), 12n);
    const nonce = await nonceOf();
    const stored = await submitter({ publicClient: faultyClient(node().url, f.chain.chain, "down") }).submit(intent);
    expect(stored).to.deep.include({ status: "queued", nonce });
    // Someone uses the same key by hand before the keeper comes back.
    const wallet = devWallet(node().url, 1);
    const hash = await wallet.sendTransaction({ to: wallet.account.address, value: 1n, nonce, chain: f.chain.chain });
    await f.client.waitForTransactionReceipt({ hash, pollingInterval: 20 });

    const restarted = submitter();
    expect(await restarted.recover()).to.deep.equal({ open: 1, broadcast: 0, finished: 1 });
    expect(await restarted.get(stored.id)).to.deep.include({
      status: "failed",
      error: `nonce ${nonce} was used by another transaction; this one can never be mined`,
    });
    expect(await pingsWithId(12n)).to.equal(0);
    const next = await restarted.submit(pingIntent(uniqueName("after-taken"), 13n));
    expect(next.nonce).to.equal(nonce + 1);
    expect((await restarted.wait(next.id, { pollIntervalMs: 20 })).status).to.equal("confirmed");
  });

  it("uses consecutive nonces for concurrent submissions, and skips nonces used outside the store", async () => {
    const s = submitter();
    const start = await nonceOf();
    const records = await Promise.all(
      [20n, 21n, 22n, 23n, 24n].map((id) => s.submit(pingIntent(uniqueName("burst"), id))),
    );
    expect(records.map((r) => r.nonce).sort((a, b) => a! - b!)).to.deep.equal([
      start,
      start + 1,
      start + 2,
      start + 3,
      start + 4,
    ]);
    const finished = await Promise.all(records.map((r) => s.wait(r.id, { pollIntervalMs: 20 })));
    expect(finished.map((r) => r.status)).to.deep.equal([
      "confirmed",
      "confirmed",
      "confirmed",
      "confirmed",
      "confirmed",
    ]);
    expect(await nonceOf()).to.equal(start + 5);

    // The same key used by hand (another tool): the submitter must not reuse its nonce.
    const wallet = devWallet(node().url, 1);
    const hash = await wallet.sendTransaction({ to: wallet.account.address, value: 1n, chain: f.chain.chain });
    await f.client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    const next = await s.submit(pingIntent(uniqueName("after-manual"), 25n));
    expect(next.nonce).to.equal(start + 6);
    expect((await s.wait(next.id, { pollIntervalMs: 20 })).status).to.equal("confirmed");
  });

  it("reports a transaction that reverted on chain as failed, with its reason", async () => {
    const s = submitter({ simulateAt: "latest" });
    const claim = (key: string): TxIntent => ({
      key,
      to: f.emitter,
      data: encodeFunctionData({ abi: f.abi, functionName: "claim" }),
    });
    await rpc(node().url, "evm_setAutomine", [false]);
    let first: Awaited<ReturnType<typeof s.submit>>;
    let second: Awaited<ReturnType<typeof s.submit>>;
    try {
      // Both simulations pass against the latest block; only one claim can succeed when mined.
      first = await s.submit(claim(uniqueName("claim-a")));
      second = await s.submit(claim(uniqueName("claim-b")));
      expect([first.status, second.status]).to.deep.equal(["submitted", "submitted"]);
      await rpc(node().url, "evm_mine");
    } finally {
      await rpc(node().url, "evm_setAutomine", [true]);
    }
    const a = await s.wait(first.id, { pollIntervalMs: 20 });
    const b = await s.wait(second.id, { pollIntervalMs: 20 });
    expect(a.status).to.equal("confirmed");
    expect(b).to.deep.include({ status: "failed", revertReason: "Emitter: already claimed" });
    expect(b.gasUsed! > 21_000n).to.equal(true);
    expect(b.blockNumber).to.equal(a.blockNumber);
  });

  it("waits for the configured depth and times out with a retryable error", async () => {
    const s = submitter({ confirmations: 3 });
    const r = await s.submit(pingIntent(uniqueName("deep"), 30n));
    const err = (await s.wait(r.id, { timeoutMs: 200, pollIntervalMs: 20 }).catch((e: unknown) => e)) as SubmitError;
    expect(err).to.be.instanceOf(SubmitError);
    expect(err).to.deep.include({ code: "WAIT_TIMEOUT", retryable: true });
    expect((await s.get(r.id))!.status).to.equal("submitted");
    await rpc(node().url, "hardhat_mine", ["0x2"]);
    expect((await s.wait(r.id, { pollIntervalMs: 20 })).status).to.equal("confirmed");
  });

  it("refuses malformed intents", () => {
    const bad = () => parseTxIntent({ key: "has space", to: "0x123", data: "0xabc", value: "-1" });
    expect(bad).to.throw(SubmitError);
    try {
      bad();
    } catch (err) {
      expect((err as SubmitError).code).to.equal("INVALID_INTENT");
      expect((err as SubmitError).message).to.equal(
        "invalid transaction intent: key: printable ASCII without spaces; to: expected an address; data: expected 0x-prefixed hex bytes; value: expected a decimal integer",
      );
    }
    expect(
      parseTxIntent({ key: "k", to: f.emitter.toLowerCase(), data: "0xABCD", value: parseEther("1").toString() }),
    ).to.deep.equal({
      key: "k",
      to: f.emitter,
      data: "0xabcd" as Hex,
      value: 10n ** 18n,
    });
  });

  (process.env.DATABASE_URL ? it : it.skip)(
    "lets two instances on one PostgreSQL send a key exactly once",
    async () => {
      const pg = await chainFixture(node());
      const other = await openStore({ databaseUrl: process.env.DATABASE_URL! });
      try {
        const mk = (store: typeof pg.store) =>
          new DirectSubmitter({
            store,
            schema: pg.schema,
            publicClient: pg.client,
            account: privateKeyToAccount(DEV_KEYS[2]),
            confirmations: 1,
          });
        const intent: TxIntent = {
          key: uniqueName("twins"),
          to: pg.emitter,
          data: encodeFunctionData({ abi: pg.abi, functionName: "ping", args: [40n, ""] }),
        };
        const [a, b] = await Promise.all([mk(pg.store).submit(intent), mk(other).submit(intent)]);
        expect(a.id).to.equal(b.id);
        expect(a.hash).to.equal(b.hash);
        await mk(pg.store).wait(a.id, { pollIntervalMs: 20 });
        const logs = await pg.client.getContractEvents({
          address: pg.emitter,
          abi: pg.abi,
          eventName: "Ping",
          args: { id: 40n },
          fromBlock: 0n,
        });
        expect(logs.length).to.equal(1);
        // And different keys from both instances get distinct consecutive nonces.
        const [c, d] = await Promise.all([
          mk(pg.store).submit({ ...intent, key: uniqueName("twin-c") }),
          mk(other).submit({ ...intent, key: uniqueName("twin-d") }),
        ]);
        expect(Math.abs(c.nonce! - d.nonce!)).to.equal(1);
      } finally {
        await other.close();
        await closeFixture(pg);
      }
    },
  );
});

describe("keepers/shared keeperSubmitter", () => {
  it("chooses the tx-executor with TX_EXECUTOR_URL, and otherwise needs the keeper's key", async () => {
    const { ConfigError } = await import("../../../keepers/shared/errors");
    const { HttpSubmitter, keeperSubmitter } = await import("../../../keepers/shared/httpSubmitter");
    const { Secret } = await import("../../../keepers/shared/redact");
    const options = { store: undefined as never, schema: "s", publicClient: undefined as never, confirmations: 1 };
    const http = await keeperSubmitter(
      { TX_EXECUTOR_URL: "http://127.0.0.1:1", TX_EXECUTOR_TOKEN: new Secret("a-token-of-24-characters-or-more") },
      options,
    );
    expect(http).to.be.instanceOf(HttpSubmitter);
    let error: unknown;
    try {
      await keeperSubmitter({}, options);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect(String((error as Error).message)).to.include("KEEPER_PRIVATE_KEY: required without TX_EXECUTOR_URL");
  });
});
