import { expect } from "chai";
import { encodeFunctionData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { connectChain, verifyChainId } from "../../../keepers/shared/chain";
import { ConfigError, classifyError, RpcError } from "../../../keepers/shared/errors";
import { startFakeRpc } from "../../helpers/fakeRpc";
import { freePort, useHardhatNode } from "../../helpers/hardhatNode";
import { startTcpProxy } from "../../helpers/tcpProxy";
import { compileEmitter, DEV_KEYS, deployEmitter } from "../../helpers/testContract";

describe("keepers/shared chain", function () {
  this.timeout(60_000);
  const node = useHardhatNode();

  it("fails over from a dead first URL and stays on the working one", async () => {
    const proxy = await startTcpProxy("127.0.0.1", node().port);
    proxy.drop(); // accepts and resets every connection: a dead endpoint
    try {
      const chain = connectChain({ rpcUrls: [proxy.url(), node().url], chainId: 31337, retryCount: 0 });
      expect(await chain.publicClient.getChainId()).to.equal(31337);
      expect(chain.state()).to.deep.equal({ active: 1, activeUrl: node().url, failovers: 1 });
      const tried = proxy.connections;
      await chain.publicClient.getBlockNumber();
      await chain.publicClient.getBlockNumber();
      expect(proxy.connections, "requests after the failover skip the dead URL").to.equal(tried);
      expect(await chain.isReachable()).to.equal(true);
    } finally {
      await proxy.close();
    }
  });

  it("goes back to the primary after primaryRetryMs once it answers again", async () => {
    const proxy = await startTcpProxy("127.0.0.1", node().port);
    proxy.drop();
    try {
      const chain = connectChain({
        rpcUrls: [proxy.url(), node().url],
        chainId: 31337,
        primaryRetryMs: 100,
        retryCount: 0,
      });
      await chain.publicClient.getBlockNumber();
      expect(chain.state().active).to.equal(1);
      proxy.resume();
      await new Promise((r) => setTimeout(r, 150));
      await chain.publicClient.getBlockNumber();
      expect(chain.state()).to.deep.equal({ active: 0, activeUrl: proxy.url(), failovers: 2 });
    } finally {
      await proxy.close();
    }
  });

  it("reports a retryable error and unhealthy while the only RPC is away, and recovers", async () => {
    const proxy = await startTcpProxy("127.0.0.1", node().port);
    try {
      const chain = connectChain({ rpcUrls: [proxy.url()], chainId: 31337, retryCount: 0, timeoutMs: 500 });
      expect(await chain.isReachable()).to.equal(true);
      proxy.drop();
      const err = await chain.publicClient.getBlockNumber().catch((e: unknown) => e);
      expect(classifyError(err).retryable).to.equal(true);
      expect(await chain.isReachable()).to.equal(false);
      proxy.resume();
      proxy.pause(); // accepted but never answered: a hanging provider
      expect(await chain.isReachable(300)).to.equal(false);
      proxy.resume();
      expect(await chain.isReachable()).to.equal(true);
    } finally {
      await proxy.close();
    }
  });

  it("does not fail over on a revert: every node would say the same", async () => {
    const address = await deployEmitter(node().url);
    const second = await startFakeRpc(() => ({ error: { code: -32603, message: "should not be asked" } }));
    try {
      const chain = connectChain({ rpcUrls: [node().url, second.url], chainId: 31337 });
      const { abi } = compileEmitter();
      const err = await chain.publicClient
        .call({ to: address, data: encodeFunctionData({ abi, functionName: "fail", args: ["nope"] }) })
        .catch((e: unknown) => e);
      expect(classifyError(err)).to.deep.equal({ retryable: false, kind: "revert" });
      expect(second.calls).to.deep.equal([]);
      expect(chain.state().active).to.equal(0);
    } finally {
      await second.close();
    }
  });

  it("fails fast when an RPC URL serves another chain, naming both ids", async () => {
    const wrong = await startFakeRpc(() => ({ result: "0x1" }));
    try {
      await verifyChainId({ rpcUrls: [node().url], chainId: 31337 });
      const err = (await verifyChainId({ rpcUrls: [node().url, wrong.url], chainId: 31337 }).catch(
        (e: unknown) => e,
      )) as ConfigError;
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.code).to.equal("CHAIN_ID_MISMATCH");
      expect(err.issues).to.deep.equal([
        { variable: "CHAIN_ID", message: `is 31337 but RPC_URLS entry 2 (${wrong.url}) serves chain 1` },
      ]);
      const single = (await connectChain({ rpcUrls: [node().url], chainId: 11155111 })
        .verifyChainId()
        .catch((e: unknown) => e)) as ConfigError;
      expect(single.message).to.equal(
        `Invalid configuration: CHAIN_ID: is 11155111 but RPC_URLS entry 1 (${node().url}) serves chain 31337`,
      );
    } finally {
      await wrong.close();
    }
  });

  it("accepts a start with one URL down, and gives a retryable RpcError when none answers", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await verifyChainId({ rpcUrls: [dead, node().url], chainId: 31337 });
    const err = await verifyChainId({ rpcUrls: [dead], chainId: 31337 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RpcError);
    expect((err as RpcError).retryable).to.equal(true);
  });

  it("builds a wallet client that signs locally and sends through the failover", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const chain = connectChain({ rpcUrls: [dead, node().url], chainId: 31337, retryCount: 0 });
    const account = privateKeyToAccount(DEV_KEYS[3]);
    const wallet = chain.walletClient(account);
    const to = privateKeyToAccount(DEV_KEYS[4]).address;
    const before = await chain.publicClient.getBalance({ address: to });
    const hash = await wallet.sendTransaction({ to, value: 12345n });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt.status).to.equal("success");
    expect(receipt.from.toLowerCase()).to.equal(account.address.toLowerCase());
    expect((await chain.publicClient.getBalance({ address: to })) - before).to.equal(12345n);
  });
});
