import { expect } from "chai";
import { createPublicClient, http } from "viem";
import {
  AbortedError,
  ConfigError,
  classifyError,
  isLogRangeError,
  RpcError,
  StoreError,
  SubmitError,
} from "../../../keepers/shared/errors";
import { type FakeReply, startFakeRpc } from "../../helpers/fakeRpc";
import { freePort } from "../../helpers/hardhatNode";

/** What viem throws for one JSON-RPC call answered by `reply`. */
async function viemErrorFor(reply: FakeReply, method: "eth_blockNumber" | "eth_getLogs" = "eth_blockNumber") {
  const rpc = await startFakeRpc(() => reply);
  try {
    const client = createPublicClient({ transport: http(rpc.url, { retryCount: 0, timeout: 2_000 }) });
    if (method === "eth_blockNumber") await client.getBlockNumber({ cacheTime: 0 });
    else await client.getLogs({ fromBlock: 0n, toBlock: 10_000n });
  } catch (err) {
    return err;
  } finally {
    await rpc.close();
  }
  throw new Error("expected the call to fail");
}

/** The error pg raises for a server-side error (pg's DatabaseError carries these fields). */
function pgError(code: string, message: string) {
  return Object.assign(new Error(message), { code, severity: "ERROR", name: "error" });
}

describe("keepers/shared errors: classifyError", () => {
  it("treats a refused connection (real fetch to a closed port) as retryable network", async () => {
    const port = await freePort();
    const err = await fetch(`http://127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(classifyError(err)).to.deep.equal({ retryable: true, kind: "network" });
  });

  it("treats viem's HttpRequestError for a closed port as retryable network", async () => {
    const port = await freePort();
    const client = createPublicClient({ transport: http(`http://127.0.0.1:${port}`, { retryCount: 0 }) });
    const err = await client.getBlockNumber().catch((e: unknown) => e);
    expect((err as Error).name).to.equal("HttpRequestError");
    expect(classifyError(err)).to.deep.equal({ retryable: true, kind: "network" });
  });

  it("treats HTTP 429 as a retryable rate limit and 502/503 as retryable server errors", async () => {
    expect(classifyError(await viemErrorFor({ status: 429, body: "Too Many Requests" }))).to.deep.equal({
      retryable: true,
      kind: "rate-limit",
    });
    expect(classifyError(await viemErrorFor({ status: 503, body: "unavailable" }))).to.deep.equal({
      retryable: true,
      kind: "server",
    });
    expect(classifyError(await viemErrorFor({ status: 502, body: "bad gateway" }))).to.deep.equal({
      retryable: true,
      kind: "server",
    });
  });

  it("treats HTTP 401/403 as fatal (a wrong API key does not fix itself)", async () => {
    expect(classifyError(await viemErrorFor({ status: 401, body: "unauthorized" }))).to.deep.equal({
      retryable: false,
      kind: "unauthorized",
    });
  });

  it("treats a viem TimeoutError as retryable", async () => {
    const port = await freePort();
    const net = await import("node:net");
    const held = new Set<import("node:net").Socket>();
    const silent = net.createServer((socket) => held.add(socket)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(port, "127.0.0.1", () => r()));
    try {
      const client = createPublicClient({
        transport: http(`http://127.0.0.1:${port}`, { retryCount: 0, timeout: 200 }),
      });
      const err = await client.getBlockNumber().catch((e: unknown) => e);
      expect((err as Error).name).to.equal("TimeoutError");
      expect(classifyError(err)).to.deep.equal({ retryable: true, kind: "timeout" });
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("treats 'header not found' and other transient node answers as retryable", async () => {
    const header = await viemErrorFor({ error: { code: -32000, message: "header not found" } });
    expect(classifyError(header)).to.deep.equal({ retryable: true, kind: "rpc-transient" });
    const limit = await viemErrorFor({ error: { code: -32005, message: "request rate exceeded" } });
    expect(classifyError(limit)).to.deep.equal({ retryable: true, kind: "rate-limit" });
    const internal = await viemErrorFor({ error: { code: -32603, message: "internal error" } });
    expect(classifyError(internal)).to.deep.equal({ retryable: true, kind: "rpc-transient" });
  });

  it("recognises the log-range refusals of common providers", async () => {
    const messages = [
      "query returned more than 10000 results",
      "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
      "eth_getLogs is limited to a 10,000 range",
      "block range is too wide",
      "exceed maximum block range: 5000",
    ];
    for (const message of messages) {
      const err = await viemErrorFor({ error: { code: -32000, message } }, "eth_getLogs");
      expect(isLogRangeError(err), message).to.equal(true);
    }
    const limit = await viemErrorFor({ error: { code: -32005, message: "limit exceeded" } }, "eth_getLogs");
    expect(isLogRangeError(limit)).to.equal(true);
    const other = await viemErrorFor({ error: { code: -32000, message: "header not found" } }, "eth_getLogs");
    expect(isLogRangeError(other)).to.equal(false);
  });

  it("treats reverts as fatal even when a node wraps them in an internal error", async () => {
    const geth = await viemErrorFor({ error: { code: 3, message: "execution reverted: nope", data: "0x" } });
    expect(classifyError(geth)).to.deep.equal({ retryable: false, kind: "revert" });
    const hardhat = await viemErrorFor({
      error: {
        code: -32603,
        message: "Error: VM Exception while processing transaction: reverted with reason string 'x'",
      },
    });
    expect(classifyError(hardhat)).to.deep.equal({ retryable: false, kind: "revert" });
  });

  it("treats invalid params, unknown methods and nonce/funds answers as fatal", async () => {
    for (const error of [
      { code: -32602, message: "invalid argument 0: hex string without 0x prefix" },
      { code: -32601, message: "the method eth_foo does not exist/is not available" },
      { code: -32000, message: "nonce too low" },
      { code: -32000, message: "insufficient funds for gas * price + value" },
      { code: -32000, message: "invalid sender" },
    ]) {
      const c = classifyError(await viemErrorFor({ error }));
      expect(c, error.message).to.deep.equal({ retryable: false, kind: "invalid-request" });
    }
  });

  it("sorts PostgreSQL errors: connection loss retryable, constraint violations fatal", () => {
    expect(classifyError(pgError("57P01", "terminating connection due to administrator command"))).to.deep.equal({
      retryable: true,
      kind: "db-connection",
    });
    expect(classifyError(pgError("08006", "connection failure"))).to.deep.equal({
      retryable: true,
      kind: "db-connection",
    });
    expect(classifyError(pgError("40P01", "deadlock detected"))).to.deep.equal({
      retryable: true,
      kind: "db-transient",
    });
    expect(classifyError(pgError("23505", "duplicate key value violates unique constraint"))).to.deep.equal({
      retryable: false,
      kind: "db-constraint",
    });
    expect(classifyError(pgError("42P01", 'relation "x" does not exist'))).to.deep.equal({
      retryable: false,
      kind: "db-query",
    });
    expect(classifyError(new Error("Connection terminated unexpectedly"))).to.deep.equal({
      retryable: true,
      kind: "network",
    });
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
      errno: -111,
    });
    expect(classifyError(refused)).to.deep.equal({ retryable: true, kind: "network" });
  });

  it("lets a CovenantError decide for itself, and keeps unknown errors fatal", () => {
    expect(classifyError(new SubmitError("x", { code: "X", retryable: true }))).to.include({ retryable: true });
    expect(classifyError(new ConfigError("bad"))).to.deep.equal({ retryable: false, kind: "config" });
    expect(classifyError(new AbortedError())).to.deep.equal({ retryable: false, kind: "aborted" });
    expect(classifyError(new Error("something nobody has seen"))).to.deep.equal({ retryable: false, kind: "unknown" });
    expect(classifyError("a string")).to.deep.equal({ retryable: false, kind: "unknown" });
  });
});

describe("keepers/shared errors: CovenantError", () => {
  it("wraps a cause with shortMessage, details, code and retryable, redacting URLs", async () => {
    const err = await viemErrorFor({ status: 503 });
    const wrapped = RpcError.from(err, "eth_blockNumber failed");
    expect(wrapped).to.be.instanceOf(RpcError);
    expect(wrapped.code).to.equal("RPC_SERVER");
    expect(wrapped.retryable).to.equal(true);
    expect(wrapped.cause).to.equal(err);
    expect(wrapped.shortMessage).to.equal("eth_blockNumber failed: HTTP request failed.");
    const secret = new RpcError("call to https://eth.example.com/v2/SECRETKEY failed", {
      code: "RPC_X",
      retryable: true,
      details: "URL: https://u:pw@eth.example.com/v2/SECRETKEY?x=1",
    });
    expect(secret.message).to.not.include("SECRETKEY");
    expect(secret.message).to.not.include("pw@");
    expect(secret.shortMessage).to.equal("call to https://eth.example.com/[redacted] failed");
  });

  it("keeps the SQLSTATE of store errors", () => {
    const e = StoreError.from(pgError("23505", "duplicate key"), "insert failed");
    expect(e.sqlState).to.equal("23505");
    expect(e.code).to.equal("STORE_23505");
    expect(e.retryable).to.equal(false);
  });

  it("lists every config issue in one message", () => {
    const e = new ConfigError([
      { variable: "CHAIN_ID", message: "required" },
      { variable: "RPC_URLS", message: "expected comma-separated http(s) URLs" },
    ]);
    expect(e.message).to.equal(
      "Invalid configuration:\n  CHAIN_ID: required\n  RPC_URLS: expected comma-separated http(s) URLs",
    );
    expect(e.retryable).to.equal(false);
  });
});
