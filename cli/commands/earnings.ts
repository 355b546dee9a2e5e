import type { Command } from "commander";
import {
  type Address,
  createPublicClient,
  defineChain,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  isAddress,
} from "viem";
import { addressOf } from "../../deploy/records";
import { distributorAbi } from "../../keepers/earnings/abi";
import {
  type Client,
  chainEpoch,
  type EarningsAddresses,
  postedRoots,
  recomputeEpoch,
} from "../../keepers/earnings/chain";
import { root28 } from "../../keepers/earnings/decide";
import { loadTreeFile } from "../../keepers/earnings/publish";
import { type EarningsTree, processProof } from "../../keepers/earnings/tree";
import { type CliContext, CliError, loadWallet, printJson } from "../context";
import { sendAndReport } from "../signed";

type WithContext = <T extends unknown[]>(
  fn: (ctx: CliContext, ...args: T) => Promise<void>,
) => (...args: T) => Promise<void>;

const ETH = "0x0000000000000000000000000000000000000000" as Address;

function uint(value: string, what: string): bigint {
  if (!/^\d{1,78}$/.test(value)) throw new CliError(`${what} must be a non-negative integer, got "${value}"`);
  return BigInt(value);
}

function tokenOption(value: string | undefined): Address | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === "eth") return ETH;
  if (!isAddress(value)) throw new CliError(`--token "${value}" is not an address (or "eth")`);
  return getAddress(value);
}

function earningsOf(ctx: CliContext): { client: Client; addresses: EarningsAddresses; fromBlock: bigint } {
  let addresses: EarningsAddresses;
  try {
    addresses = {
      router: addressOf(ctx.record, "RevenueRouter"),
      distributor: addressOf(ctx.record, "EarningsDistributor"),
    };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const chain = defineChain({
    id: ctx.chainId,
    name: `chain-${ctx.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [ctx.options.rpc] } },
  });
  const client = createPublicClient({ chain, transport: http(ctx.options.rpc, { timeout: 60_000 }) });
  return { client, addresses, fromBlock: BigInt(ctx.record.fromBlock ?? 0) };
}

type ProofOut = {
  epoch: string;
  agentId: string;
  token: Address;
  amount: string;
  proof: Hex[];
  root: Hex;
  onChainRoot: Hex;
  claimed: boolean;
  claimCalldata: Hex;
};

/** Finds the agent's leaf in the trees of an epoch: a published tree file, a keeper's HTTP API, or the chain. */
async function findLeaves(
  ctx: CliContext,
  epoch: bigint,
  agentId: bigint,
  opts: { token?: string; tree?: string; keeper?: string; chunkBlocks: string },
): Promise<ProofOut[]> {
  const { client, addresses } = earningsOf(ctx);
  const only = tokenOption(opts.token);
  const found: { token: Address; amount: bigint; proof: Hex[]; root: Hex }[] = [];
  if (opts.keeper) {
    const res = await fetch(`${opts.keeper.replace(/\/$/, "")}/earnings/${epoch}/${agentId}`);
    if (res.status === 404) return [];
    if (!res.ok) throw new CliError(`the keeper at ${opts.keeper} answered HTTP ${res.status}`);
    const body = (await res.json()) as { leaves: { token: Address; amount: string; proof: Hex[]; root: Hex }[] };
    for (const l of body.leaves) found.push({ ...l, token: getAddress(l.token), amount: BigInt(l.amount) });
  } else {
    const trees: EarningsTree[] = [];
    if (opts.tree) {
      try {
        trees.push(await loadTreeFile(opts.tree));
      } catch (err) {
        throw new CliError(`cannot use tree ${opts.tree}: ${(err as Error).message}`);
      }
    } else {
      const recomputed = await recomputeEpoch(client, addresses, epoch, {
        chunkBlocks: uint(opts.chunkBlocks, "--chunk-blocks"),
      });
      trees.push(...recomputed.trees.values());
    }
    for (const tree of trees) {
      const leaf = tree.leafOf(agentId);
      const proof = tree.proof(agentId);
      if (leaf && proof) found.push({ token: tree.token, amount: leaf.amount, proof, root: tree.root });
    }
  }
  const out: ProofOut[] = [];
  for (const f of found.filter((l) => !only || l.token === only)) {
    // Whatever the source, the proof is checked here: it must lead to its root, and that root must be on chain.
    if (processProof({ agentId, token: f.token, amount: f.amount }, f.proof) !== f.root.toLowerCase()) {
      throw new CliError(`the proof for ${f.token} does not lead to the root it came with (${f.root})`);
    }
    const onChain = await chainEpoch(client, addresses.distributor, epoch, f.token);
    const claimed = await client.readContract({
      address: addresses.distributor,
      abi: distributorAbi,
      functionName: "isClaimed",
      args: [epoch, f.token, agentId],
    });
    out.push({
      epoch: epoch.toString(),
      agentId: agentId.toString(),
      token: f.token,
      amount: f.amount.toString(),
      proof: f.proof,
      root: f.root,
      onChainRoot: onChain.root28,
      claimed,
      claimCalldata: encodeFunctionData({
        abi: distributorAbi,
        functionName: "claim",
        args: [epoch, f.token, agentId, f.amount, f.proof],
      }),
    });
  }
  return out;
}

/** `covenant earnings …`: check any poster's root from the chain alone, get proofs, claim. */
export function registerEarningsCommands(program: Command, withContext: WithContext): void {
  const earnings = program.command("earnings").description("agents' earnings: verify epoch roots, proofs, claims");

  earnings
    .command("verify <epoch>")
    .description("recompute an epoch's trees from the chain's Paid events alone and compare them with the posted roots")
    .option("--token <address>", "only this token (an address, or eth)")
    .option("--chunk-blocks <n>", "widest eth_getLogs range", "2000")
    .action(
      withContext(async (ctx, epochArg: string, opts: { token?: string; chunkBlocks: string }) => {
        const epoch = uint(epochArg, "epoch");
        const { client, addresses, fromBlock } = earningsOf(ctx);
        const chunkBlocks = uint(opts.chunkBlocks, "--chunk-blocks");
        const only = tokenOption(opts.token);
        const recomputed = await recomputeEpoch(client, addresses, epoch, { chunkBlocks });
        const posted = await postedRoots(client, addresses.distributor, epoch, only, fromBlock, chunkBlocks);
        const tokens = new Set<Address>([...recomputed.trees.keys(), ...posted.map((p) => p.token)]);
        const rows = [];
        let mismatches = 0;
        for (const token of [...tokens].filter((t) => !only || t === only).sort()) {
          const tree = recomputed.trees.get(token);
          const onChain = await chainEpoch(client, addresses.distributor, epoch, token);
          const last = posted.filter((p) => p.token === token).at(-1);
          const stored = onChain.root28.toLowerCase();
          const none = /^0x0+$/.test(stored);
          let verdict: string;
          if (!last) verdict = tree ? "not posted" : "nothing to post";
          else if (!tree) verdict = "MISMATCH: a root was posted for a token nobody paid in";
          else if (last.root.toLowerCase() !== tree.root.toLowerCase()) verdict = "MISMATCH: posted root differs";
          else if (last.total !== tree.total) verdict = "MISMATCH: posted total differs";
          else if (none) verdict = "match (cancelled by the guardian)";
          else if (stored !== root28(tree.root)) verdict = "MISMATCH: the distributor holds another root";
          else verdict = "match";
          if (verdict.startsWith("MISMATCH")) mismatches++;
          rows.push({
            token,
            leaves: tree?.length ?? 0,
            total: (tree?.total ?? 0n).toString(),
            recomputedRoot: tree?.root ?? null,
            postedRoot: last?.root ?? null,
            postedTotal: last?.total.toString() ?? null,
            uri: last?.uri ?? null,
            storedRoot: none ? null : onChain.root28,
            verdict,
          });
        }
        const summary = {
          epoch: epoch.toString(),
          blocks: { from: recomputed.blocks.from.toString(), to: recomputed.blocks.to.toString() },
          complete: recomputed.blocks.complete,
          payments: recomputed.payments,
          tokens: rows,
          ok: mismatches === 0,
        };
        if (ctx.options.json) printJson(summary);
        else {
          console.log(
            `epoch ${epoch}: blocks ${summary.blocks.from}-${summary.blocks.to}${summary.complete ? "" : " (not over yet)"}, ` +
              `${recomputed.payments} Paid events`,
          );
          for (const r of rows) {
            console.log(`  ${r.token}  ${r.leaves} leaves, total ${r.total}`);
            console.log(`    recomputed ${r.recomputedRoot ?? "-"}`);
            console.log(`    posted     ${r.postedRoot ?? "-"}${r.uri ? ` (${r.uri})` : ""}`);
            console.log(`    ${r.verdict}`);
          }
          if (rows.length === 0) console.log("  no payments and no roots");
        }
        if (mismatches > 0)
          throw new CliError(`verify failed: ${mismatches} root(s) do not match the chain's payments`, 1);
      }),
    );

  earnings
    .command("proof <epoch> <agentId>")
    .description("the agent's leaf and Merkle proof for an epoch, checked against the root on chain")
    .option("--token <address>", "only this token (an address, or eth)")
    .option("--tree <file>", "take the tree from a published tree file instead of the chain")
    .option("--keeper <url>", "ask an earnings keeper's HTTP API instead of the chain")
    .option("--chunk-blocks <n>", "widest eth_getLogs range", "2000")
    .action(
      withContext(
        async (
          ctx,
          epochArg: string,
          agentArg: string,
          opts: { token?: string; tree?: string; keeper?: string; chunkBlocks: string },
        ) => {
          const epoch = uint(epochArg, "epoch");
          const agentId = uint(agentArg, "agent id");
          const leaves = await findLeaves(ctx, epoch, agentId, opts);
          if (leaves.length === 0) throw new CliError(`agent ${agentId} has no earnings in epoch ${epoch}`);
          if (ctx.options.json) printJson(leaves);
          else {
            for (const l of leaves) {
              const stored = root28(l.root) === l.onChainRoot.toLowerCase();
              console.log(`epoch ${epoch} agent ${agentId} token ${l.token}: ${l.amount}`);
              console.log(`  root ${l.root} (${stored ? "on chain" : "NOT the root on chain"})`);
              console.log(`  ${l.claimed ? "claimed" : "not claimed yet"}`);
              console.log(`  proof ${JSON.stringify(l.proof)}`);
            }
          }
        },
      ),
    );

  earnings
    .command("claim <epoch> <agentId>")
    .description("claim the agent's leaf (anyone may; the money goes only to the agent's account and the commons)")
    .option("--token <address>", "only this token (an address, or eth)")
    .option("--tree <file>", "take the tree from a published tree file instead of the chain")
    .option("--keeper <url>", "ask an earnings keeper's HTTP API instead of the chain")
    .option("--chunk-blocks <n>", "widest eth_getLogs range", "2000")
    .option("--sender-key-env <VAR>", "environment variable holding the sender's key", "COVENANT_SENDER_KEY")
    .action(
      withContext(
        async (
          ctx,
          epochArg: string,
          agentArg: string,
          opts: { token?: string; tree?: string; keeper?: string; chunkBlocks: string; senderKeyEnv: string },
        ) => {
          const epoch = uint(epochArg, "epoch");
          const agentId = uint(agentArg, "agent id");
          const leaves = (await findLeaves(ctx, epoch, agentId, opts)).filter((l) => !l.claimed);
          if (leaves.length === 0) throw new CliError(`agent ${agentId} has nothing left to claim in epoch ${epoch}`);
          const sender = await loadWallet(ctx, opts.senderKeyEnv);
          const { addresses } = earningsOf(ctx);
          for (const l of leaves) {
            await sendAndReport(ctx, sender, { to: addresses.distributor, data: l.claimCalldata }, `claim ${l.token}`);
          }
        },
      ),
    );
}
