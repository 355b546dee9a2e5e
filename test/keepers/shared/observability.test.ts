import { expect } from "chai";
import { ConfigError, RpcError } from "../../../keepers/shared/errors";
import { createLogger, withContext } from "../../../keepers/shared/logger";
import { createMetrics } from "../../../keepers/shared/metrics";
import { Secret } from "../../../keepers/shared/redact";
import { captureLogs } from "./fixtures/captureLogs";

describe("keepers/shared logger", () => {
  it("writes one JSON object per line with service, level name, ISO time and message", () => {
    const logs = captureLogs();
    createLogger("earnings", "info", logs.stream).info({ epoch: 7 }, "epoch closed");
    const [line] = logs.lines();
    expect(line).to.include({ service: "earnings", level: "info", msg: "epoch closed", epoch: 7 });
    expect(String(line!.time)).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("respects the level", () => {
    const logs = captureLogs();
    const log = createLogger("k", "warn", logs.stream);
    log.info("hidden");
    log.warn("shown");
    expect(logs.lines().map((l) => l.msg)).to.deep.equal(["shown"]);
  });

  it("child loggers carry agentId, txId and epoch (bigint as decimal string)", () => {
    const logs = captureLogs();
    const log = withContext(createLogger("spending", "info", logs.stream), { agentId: 42n, epoch: 3 });
    withContext(log, { txId: "tx-1" }).info("sweep sent");
    expect(logs.lines()[0]).to.include({ agentId: "42", epoch: 3, txId: "tx-1", msg: "sweep sent" });
  });

  it("redacts secret fields, Secret values and URL credentials anywhere in the payload, bindings and message", () => {
    const logs = captureLogs();
    const log = withContext(createLogger("k", "info", logs.stream), { password: "BINDPW" } as never);
    log.info(
      {
        nested: { privateKey: "0xKEYKEY", deeper: { apiKey: "AK" } },
        s: new Secret("SECRETVAL"),
        url: "https://rpc.example/v2/URLKEY",
      },
      "connecting to https://user:MSGPW@rpc.example/v3/MSGKEY",
    );
    const text = logs.text();
    for (const secret of ["BINDPW", "0xKEYKEY", 'AK"', "SECRETVAL", "URLKEY", "MSGPW", "MSGKEY"]) {
      expect(text, secret).to.not.include(secret);
    }
    const line = logs.lines()[0] as Record<string, unknown>;
    expect(line.nested).to.deep.equal({ privateKey: "[redacted]", deeper: { apiKey: "[redacted]" } });
    expect(line.s).to.equal("[redacted]");
    expect(line.url).to.equal("https://rpc.example/[redacted]");
    expect(line.msg).to.equal("connecting to https://user:[redacted]@rpc.example/[redacted]");
  });

  it("serializes CovenantErrors with code and retryable, redacting URLs in message and stack", () => {
    const logs = captureLogs();
    const err = new RpcError("call failed", {
      code: "RPC_SERVER",
      retryable: true,
      details: "URL: https://eth.example/v2/STACKKEY",
    });
    createLogger("k", "info", logs.stream).error({ err }, "tick failed");
    const line = logs.lines()[0] as { err: Record<string, unknown> };
    expect(line.err).to.include({ type: "RpcError", code: "RPC_SERVER", retryable: true, shortMessage: "call failed" });
    expect(logs.text()).to.not.include("STACKKEY");
    expect(String(line.err.message)).to.equal("call failed\n\nDetails: URL: https://eth.example/[redacted]");
  });

  it("logs ConfigError issues", () => {
    const logs = captureLogs();
    createLogger("k", "info", logs.stream).fatal(
      { err: new ConfigError([{ variable: "CHAIN_ID", message: "required" }]) },
      "bad",
    );
    expect((logs.lines()[0] as { err: { message: string } }).err.message).to.equal(
      "Invalid configuration: CHAIN_ID: required",
    );
  });
});

describe("keepers/shared metrics", () => {
  it("prefixes names with covenant_<keeper>_ and labels them with the keeper", async () => {
    const m = createMetrics("tx-executor", { defaultMetrics: false });
    const sent = m.counter("sent_total", "Transactions sent", ["status"]);
    sent.inc({ status: "confirmed" }, 2);
    m.gauge("lag_blocks", "Lag").set(5);
    m.histogram("tick_seconds", "Tick", [], [0.1, 1]).observe(0.5);
    const text = await m.text();
    expect(text).to.include('covenant_tx_executor_sent_total{status="confirmed",keeper="tx-executor"} 2');
    expect(text).to.include('covenant_tx_executor_lag_blocks{keeper="tx-executor"} 5');
    expect(text).to.include('covenant_tx_executor_tick_seconds_bucket{le="1",keeper="tx-executor"} 1');
    expect(text).to.include('covenant_tx_executor_tick_seconds_bucket{le="0.1",keeper="tx-executor"} 0');
  });

  it("gives each service its own registry with its own default process metrics", async () => {
    const a = createMetrics("earnings");
    const b = createMetrics("backup");
    a.counter("x_total", "x").inc();
    const [ta, tb] = [await a.text(), await b.text()];
    expect(ta).to.include("covenant_earnings_process_cpu_user_seconds_total");
    expect(ta).to.include('covenant_earnings_x_total{keeper="earnings"} 1');
    expect(tb).to.include("covenant_backup_process_cpu_user_seconds_total");
    expect(tb).to.not.include("covenant_earnings_");
    // A second service of the same name in one process (tests) must not clash.
    expect(() => createMetrics("earnings").counter("x_total", "x")).to.not.throw();
  });

  it("shares one series between parts that ask for the same name (two log scanners), and refuses a clash", async () => {
    const m = createMetrics("spending", { defaultMetrics: false });
    const first = m.counter("scanner_blocks_total", "Blocks", ["scanner"]);
    const second = m.counter("scanner_blocks_total", "Blocks", ["scanner"]);
    expect(second).to.equal(first);
    first.inc({ scanner: "module" }, 2);
    second.inc({ scanner: "tokens" }, 3);
    const text = await m.text();
    expect(text).to.include('covenant_spending_scanner_blocks_total{scanner="module",keeper="spending"} 2');
    expect(text).to.include('covenant_spending_scanner_blocks_total{scanner="tokens",keeper="spending"} 3');
    expect(m.histogram("latency_seconds", "h", ["kind"])).to.equal(m.histogram("latency_seconds", "h", ["kind"]));
    expect(() => m.gauge("scanner_blocks_total", "Blocks", ["scanner"])).to.throw(
      "metric covenant_spending_scanner_blocks_total is already registered as another type or with labels [scanner]",
    );
    expect(() => m.counter("scanner_blocks_total", "Blocks", ["other"])).to.throw(/already registered/);
  });
});
