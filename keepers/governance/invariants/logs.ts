import { type Abi, type Address, decodeEventLog, type Hex, toEventSelector } from "viem";
import type { InvariantContext } from "./types";

/** Every log of `eventName` emitted by `address`, read in chunks from ctx.fromBlock to the latest block. */
export async function eventsOf(
  ctx: InvariantContext,
  address: Address,
  abi: Abi,
  eventName: string,
): Promise<Record<string, unknown>[]> {
  const event = abi.find((i) => i.type === "event" && i.name === eventName);
  if (event?.type !== "event") throw new Error(`no event ${eventName} in the ABI`);
  const topic = toEventSelector(event);
  const latest = await ctx.client.getBlockNumber();
  const out: Record<string, unknown>[] = [];
  for (let from = ctx.fromBlock; from <= latest; from += BigInt(ctx.chunkBlocks)) {
    const to = from + BigInt(ctx.chunkBlocks) - 1n < latest ? from + BigInt(ctx.chunkBlocks) - 1n : latest;
    const logs = (await ctx.client.request({
      method: "eth_getLogs",
      params: [{ address, topics: [topic], fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }],
    })) as { data: Hex; topics: [Hex, ...Hex[]] }[];
    for (const log of logs) {
      const decoded = decodeEventLog({ abi, data: log.data, topics: log.topics });
      out.push(decoded.args as unknown as Record<string, unknown>);
    }
  }
  return out;
}
