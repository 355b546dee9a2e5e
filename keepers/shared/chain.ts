import {
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { ConfigError, RpcError } from "./errors";
import { type FailoverState, failover } from "./failover";
import type { Logger } from "./logger";
import { redactUrl } from "./redact";
import { withRetry } from "./retry";

export type ChainOptions = {
  rpcUrls: readonly string[];
  chainId: number;
  timeoutMs?: number;
  logger?: Logger;
  /** See FailoverOptions. */
  primaryRetryMs?: number;
  retryCount?: number;
};

export type ChainConnection = {
  readonly chain: Chain;
  readonly publicClient: PublicClient<Transport, Chain>;
  /** Which URL requests go to now (redacted). */
  state(): FailoverState;
  /** Fails fast when an RPC URL serves another chain than CHAIN_ID; see `verifyChainId`. */
  verifyChainId(): Promise<void>;
  /** True when the chain answers eth_blockNumber within `timeoutMs` (for /healthz). */
  isReachable(timeoutMs?: number): Promise<boolean>;
  /** A wallet client that signs locally with `account` and sends through the same failover. */
  walletClient(account: LocalAccount): WalletClient<Transport, Chain, LocalAccount>;
};

// Chains are defined here rather than taken from "viem/chains" or "viem/op-stack": those entry
// points pull TypeScript sources of unrelated chains (ox/tempo, webauthn) into our type check,
// which fails without the DOM lib. Keepers read logs, blocks and their own EIP-1559 receipts,
// which viem's default formatters handle on OP-stack chains too.
const CHAIN_NAMES: Record<number, string> = {
  1: "Ethereum",
  10: "OP Mainnet",
  8453: "Base",
  84532: "Base Sepolia",
  31337: "Hardhat",
  11155111: "Sepolia",
  11155420: "OP Sepolia",
};

/** A viem chain definition for `chainId`. */
export function chainFor(chainId: number, rpcUrls: readonly string[]): Chain {
  return defineChain({
    id: chainId,
    name: CHAIN_NAMES[chainId] ?? `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [...rpcUrls] } },
  });
}

/** A public client over RPC_URLS with failover, and the helpers keepers need around it. */
export function connectChain(options: ChainOptions): ChainConnection {
  const chain = chainFor(options.chainId, options.rpcUrls);
  const transport = failover(options.rpcUrls, {
    timeoutMs: options.timeoutMs,
    retryCount: options.retryCount,
    primaryRetryMs: options.primaryRetryMs,
    onFailover: ({ from, to, error }) => options.logger?.warn({ from, to, err: error }, "RPC failover"),
  });
  // cacheTime 0: keepers decide on the head block; a cached block number would make them lag.
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0, pollingInterval: 1_000 });
  const state = () => (publicClient.transport as unknown as { state(): FailoverState }).state();

  return {
    chain,
    publicClient,
    state,
    verifyChainId: () => verifyChainId(options),
    async isReachable(timeoutMs = 3_000) {
      try {
        await Promise.race([
          publicClient.getBlockNumber(),
          new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs).unref()),
        ]);
        return true;
      } catch {
        return false;
      }
    },
    walletClient(account: LocalAccount) {
      return createWalletClient({ account, chain, transport });
    },
  };
}

/**
 * Asks every RPC URL for its chain id. A URL that answers with another id than CHAIN_ID is a
 * configuration error (it would make the keeper read or send on the wrong chain after a failover),
 * named with both ids. Unreachable URLs are logged; if none answers, a retryable RpcError.
 */
export async function verifyChainId(options: ChainOptions): Promise<void> {
  const results = await Promise.all(
    options.rpcUrls.map(async (url, i) => {
      try {
        const t = http(url, { timeout: options.timeoutMs ?? 10_000, retryCount: 0 })({});
        // A few quick retries: at start a stale keep-alive socket or a node still booting is common.
        const hex = (await withRetry(() => t.request({ method: "eth_chainId" }), {
          retries: 2,
          baseDelayMs: 200,
          maxDelayMs: 1_000,
        })) as string;
        return { i, url, id: Number(BigInt(hex)) };
      } catch (error) {
        options.logger?.warn({ url: redactUrl(url), err: error }, "RPC URL unreachable at start");
        return { i, url, error };
      }
    }),
  );
  const wrong = results.filter((r) => r.id !== undefined && r.id !== options.chainId);
  if (wrong.length > 0) {
    throw new ConfigError(
      wrong.map((r) => ({
        variable: "CHAIN_ID",
        message: `is ${options.chainId} but RPC_URLS entry ${r.i + 1} (${redactUrl(r.url)}) serves chain ${r.id}`,
      })),
      { code: "CHAIN_ID_MISMATCH" },
    );
  }
  if (results.every((r) => r.id === undefined)) {
    throw RpcError.from(results[0]!.error, "no RPC URL answered eth_chainId");
  }
}
