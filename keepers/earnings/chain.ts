import {
  type Address,
  type Chain,
  decodeEventLog,
  getAddress,
  type Hex,
  type PublicClient,
  pad,
  type Transport,
  toEventSelector,
  toHex,
} from "viem";
import { distributorAbi, routerAbi } from "./abi";
import type { ChainEpoch } from "./decide";
import { type EarningsLeaf, EarningsTree } from "./tree";

/*
 * Reading earnings from the chain alone: the block range of an epoch (by timestamp), its Paid events (in bounded
 * eth_getLogs chunks, filtered by the indexed epoch), the leaves they sum to, and what the distributor holds. The CLI's
 * `covenant earnings verify` recomputes a root with nothing else, so any operator can check any poster.
 */

export type Client = PublicClient<Transport, Chain | undefined>;

export type EarningsAddresses = { router: Address; distributor: Address };

const PAID = toEventSelector(routerAbi.find((x) => x.type === "event" && x.name === "Paid")!);
const ROOT_POSTED = toEventSelector(distributorAbi.find((x) => x.type === "event" && x.name === "RootPosted")!);

export type EpochParams = { genesis: bigint; epochLength: bigint };

export async function epochParams(client: Client, router: Address): Promise<EpochParams> {
  const [genesis, epochLength] = await Promise.all([
    client.readContract({ address: router, abi: routerAbi, functionName: "genesis" }),
    client.readContract({ address: router, abi: routerAbi, functionName: "epochLength" }),
  ]);
  return { genesis, epochLength };
}

/** The first block whose timestamp is at least `timestamp` (head + 1 when none is yet). */
export async function firstBlockAtOrAfter(client: Client, timestamp: bigint, head?: bigint): Promise<bigint> {
  let hi = head ?? (await client.getBlockNumber());
  if ((await client.getBlock({ blockNumber: hi })).timestamp < timestamp) return hi + 1n;
  let lo = 0n;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if ((await client.getBlock({ blockNumber: mid })).timestamp < timestamp) lo = mid + 1n;
    else hi = mid;
  }
  return lo;
}

/** The blocks [from, to] of `epoch` as far as the chain has them; `complete` once a later block exists. */
export async function epochBlocks(
  client: Client,
  params: EpochParams,
  epoch: bigint,
): Promise<{ from: bigint; to: bigint; complete: boolean }> {
  const head = await client.getBlockNumber();
  const start = params.genesis + epoch * params.epochLength;
  const from = await firstBlockAtOrAfter(client, start, head);
  const end = await firstBlockAtOrAfter(client, start + params.epochLength, head);
  return { from, to: end - 1n, complete: end <= head };
}

type RawLog = { data: Hex; topics: Hex[]; blockNumber: Hex | bigint | null };

async function getLogsChunked(
  client: Client,
  filter: { address: Address; topics: (Hex | null)[] },
  from: bigint,
  to: bigint,
  chunkBlocks: bigint,
): Promise<RawLog[]> {
  const out: RawLog[] = [];
  for (let start = from; start <= to; start += chunkBlocks) {
    const end = start + chunkBlocks - 1n < to ? start + chunkBlocks - 1n : to;
    const logs = (await client.request({
      method: "eth_getLogs",
      params: [{ address: filter.address, topics: filter.topics, fromBlock: toHex(start), toBlock: toHex(end) }],
    })) as RawLog[];
    out.push(...logs);
  }
  return out;
}

/** Sums Paid agent shares per agent (zero shares dropped), in agent-id order. */
export function sumLeaves(token: Address, payments: Iterable<{ agentId: bigint; agentShare: bigint }>): EarningsLeaf[] {
  const sums = new Map<bigint, bigint>();
  for (const p of payments) sums.set(p.agentId, (sums.get(p.agentId) ?? 0n) + p.agentShare);
  return [...sums]
    .filter(([, amount]) => amount > 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([agentId, amount]) => ({ agentId, token: getAddress(token), amount }));
}

export type RecomputedEpoch = {
  epoch: bigint;
  blocks: { from: bigint; to: bigint; complete: boolean };
  payments: number;
  /** One tree per token paid in during the epoch (tokens whose shares were all zero have none). */
  trees: Map<Address, EarningsTree>;
};

/** Recomputes an epoch's trees from its Paid events, read from the chain in `chunkBlocks` ranges. */
export async function recomputeEpoch(
  client: Client,
  addresses: EarningsAddresses,
  epoch: bigint,
  options: { chunkBlocks?: bigint; params?: EpochParams } = {},
): Promise<RecomputedEpoch> {
  const params = options.params ?? (await epochParams(client, addresses.router));
  const blocks = await epochBlocks(client, params, epoch);
  const logs =
    blocks.to < blocks.from
      ? []
      : await getLogsChunked(
          client,
          { address: addresses.router, topics: [PAID, null, null, pad(toHex(epoch), { size: 32 })] },
          blocks.from,
          blocks.to,
          options.chunkBlocks ?? 2_000n,
        );
  const byToken = new Map<Address, { agentId: bigint; agentShare: bigint }[]>();
  for (const log of logs) {
    const { args } = decodeEventLog({
      abi: routerAbi,
      eventName: "Paid",
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
    });
    const token = getAddress(args.token);
    if (!byToken.has(token)) byToken.set(token, []);
    byToken.get(token)!.push({ agentId: args.agentId, agentShare: args.agentShare });
  }
  const trees = new Map<Address, EarningsTree>();
  for (const [token, payments] of byToken) {
    const leaves = sumLeaves(token, payments);
    if (leaves.length > 0) trees.set(token, EarningsTree.build(leaves));
  }
  return { epoch, blocks, payments: logs.length, trees };
}

export type PostedRoot = {
  token: Address;
  root: Hex;
  total: bigint;
  uri: string;
  claimableAt: bigint;
  blockNumber: bigint;
};

/**
 * Every RootPosted of `epoch` (in `token`, or in any token) from `fromBlock` on, oldest first: a root the guardian
 * cancelled is followed by the next one posted.
 */
export async function postedRoots(
  client: Client,
  distributor: Address,
  epoch: bigint,
  token: Address | undefined,
  fromBlock: bigint,
  chunkBlocks = 2_000n,
): Promise<PostedRoot[]> {
  const head = await client.getBlockNumber();
  const logs = await getLogsChunked(
    client,
    {
      address: distributor,
      topics: [
        ROOT_POSTED,
        pad(toHex(epoch), { size: 32 }),
        token ? pad(token.toLowerCase() as Hex, { size: 32 }) : null,
      ],
    },
    fromBlock,
    head,
    chunkBlocks,
  );
  return logs.map((log) => {
    const { args } = decodeEventLog({
      abi: distributorAbi,
      eventName: "RootPosted",
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
    });
    return {
      token: getAddress(args.token),
      root: args.root,
      total: args.total,
      uri: args.uri,
      claimableAt: args.claimableAt,
      blockNumber: BigInt(log.blockNumber ?? 0),
    };
  });
}

/** What the distributor holds for (epoch, token). */
export async function chainEpoch(
  client: Client,
  distributor: Address,
  epoch: bigint,
  token: Address,
): Promise<ChainEpoch> {
  const info = await client.readContract({
    address: distributor,
    abi: distributorAbi,
    functionName: "epochInfo",
    args: [epoch, token],
  });
  return {
    root28: info.root,
    claimableAt: info.claimableAt,
    expiresAt: info.expiresAt,
    opened: info.opened,
    swept: info.swept,
    remaining: info.remaining,
  };
}
