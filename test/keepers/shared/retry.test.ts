import { expect } from "chai";
import { AbortedError, RpcError } from "../../../keepers/shared/errors";
import { backoffDelay, sleep, withRetry } from "../../../keepers/shared/retry";

const transient = () => new RpcError("flaky", { code: "RPC_NETWORK", retryable: true });
const fatal = () => new RpcError("reverted", { code: "RPC_REVERT", retryable: false });

describe("keepers/shared retry: withRetry", () => {
  it("retries retryable errors and returns the first success", async () => {
    let calls = 0;
    const retries: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw transient();
        return "done";
      },
      { retries: 5, baseDelayMs: 1, maxDelayMs: 5, onRetry: ({ attempt }) => retries.push(attempt) },
    );
    expect(result).to.equal("done");
    expect(calls).to.equal(3);
    expect(retries).to.deep.equal([1, 2]);
  });

  it("stops at once on a fatal error", async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw fatal();
      },
      { retries: 5, baseDelayMs: 1, maxDelayMs: 5 },
    ).catch((e: unknown) => e);
    expect(calls).to.equal(1);
    expect((err as RpcError).code).to.equal("RPC_REVERT");
  });

  it("gives up after `retries` retries with the last error", async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new RpcError(`flaky ${calls}`, { code: "RPC_NETWORK", retryable: true });
      },
      { retries: 2, baseDelayMs: 1, maxDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(calls).to.equal(3);
    expect((err as Error).message).to.equal("flaky 3");
  });

  it("uses shouldRetry when given", async () => {
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        if (calls < 2) throw fatal();
      },
      { retries: 3, baseDelayMs: 1, maxDelayMs: 1, shouldRetry: (e) => (e as RpcError).code === "RPC_REVERT" },
    );
    expect(calls).to.equal(2);
  });

  it("interrupts a backoff wait when the signal aborts", async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const err = await withRetry(
      async () => {
        calls++;
        throw transient();
      },
      { retries: 10, baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 1, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AbortedError);
    expect(calls).to.equal(1);
    expect(Date.now() - started).to.be.lessThan(1_000);
  });

  it("does not start when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
      },
      { retries: 1, baseDelayMs: 1, maxDelayMs: 1, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AbortedError);
    expect(calls).to.equal(0);
  });
});

describe("keepers/shared retry: backoff", () => {
  it("doubles the ceiling per attempt, caps it, and scales it by the jitter draw", () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1_000, () => 1))).to.deep.equal([100, 200, 400, 800, 1_000]);
    expect(backoffDelay(3, 100, 1_000, () => 0.5)).to.equal(200);
    expect(backoffDelay(3, 100, 1_000, () => 0)).to.equal(0);
  });

  it("sleep resolves after the delay and rejects with AbortedError on abort", async () => {
    const t = Date.now();
    await sleep(30);
    expect(Date.now() - t).to.be.at.least(25);
    const c = new AbortController();
    const p = sleep(10_000, c.signal);
    c.abort();
    expect(await p.catch((e: unknown) => e)).to.be.instanceOf(AbortedError);
  });
});
