import { type Command, Option } from "commander";
import { Contract, formatUnits, getAddress, isAddress, parseUnits, type Wallet, ZeroAddress } from "ethers";
import type { SafeConnection } from "../../deploy/safe";
import {
  actionToJson,
  approveSpendTypedData,
  buildSpend,
  DEFAULT_TRANSFER_GAS,
  ETH,
  fromEthersSigner,
  type QueuedSpendView,
  queueStatusName,
  randomNonce,
  signAction,
  spendRelayCall,
  toQueuedSpendView,
} from "../../sdk";
import { type SpendingLimitModule, SpendingLimitModule__factory } from "../../typechain-types";
import { type CliContext, CliError, loadWallet, printJson } from "../context";
import { sendAndReport } from "../signed";
import { address, agentId } from "./agent";

type WithContext = <T extends unknown[]>(
  fn: (ctx: CliContext, ...args: T) => Promise<void>,
) => (...args: T) => Promise<void>;

/** The deployment's SpendingLimitModule, or a clear error when the record has none. */
function moduleOf(ctx: CliContext): SpendingLimitModule {
  const at = ctx.deployment.spendingLimits;
  if (!at) throw new CliError(`the deployment for chain ${ctx.chainId} has no SpendingLimitModule`);
  return SpendingLimitModule__factory.connect(at, ctx.provider);
}

/** ETH, or an ERC-20 by address. */
function tokenArg(value: string | undefined): string {
  if (value === undefined || value.toLowerCase() === "eth") return ETH;
  return address(value, "token");
}

async function decimalsOf(ctx: CliContext, token: string): Promise<number> {
  if (token === ETH) return 18;
  try {
    return Number(await new Contract(token, ["function decimals() view returns (uint8)"], ctx.provider).decimals!());
  } catch {
    throw new CliError(`${token} does not answer decimals(): pass the amount in base units with --raw`);
  }
}

/** "1.5" in the token's units (or base units with --raw) → base units. */
async function amountArg(ctx: CliContext, token: string, value: string, raw?: boolean): Promise<bigint> {
  if (raw) {
    if (!/^\d+$/.test(value)) throw new CliError(`with --raw the amount must be an integer, got "${value}"`);
    return BigInt(value);
  }
  try {
    return parseUnits(value, await decimalsOf(ctx, token));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`amount "${value}" is not a decimal number in the token's units`);
  }
}

function queueIdArg(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new CliError(`queue id must be a non-negative integer, got "${value}"`);
  return BigInt(value);
}

async function latestTimestamp(ctx: CliContext): Promise<number> {
  const block = await ctx.provider.getBlock("latest");
  if (!block) throw new CliError("the RPC returned no latest block");
  return block.timestamp;
}

/** protocol-kit's view of this chain: the Safe contracts recorded by the deployment (local chains) or canonical ones. */
async function safeConnection(ctx: CliContext, ownerKey: string): Promise<SafeConnection> {
  const { canonicalSafeContracts } = await import("../../deploy/safe");
  const contracts = ctx.record.safeContracts ?? canonicalSafeContracts(ctx.chainId);
  if (!contracts) throw new CliError(`no Safe v1.4.1 contracts known for chain ${ctx.chainId}`);
  return { provider: ctx.options.rpc, signer: ownerKey, chainId: ctx.chainId, contracts };
}

/** Private keys from environment variables (owners of a Safe). */
function keysFromEnv(vars: string[]): string[] {
  if (vars.length === 0) throw new CliError("name at least one --owner-key-env");
  return vars.map((v) => {
    const key = process.env[v];
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new CliError(`${v} must hold a private key (0x + 64 hex digits)`);
    return key;
  });
}

async function queuedView(module: SpendingLimitModule, id: bigint): Promise<QueuedSpendView> {
  const q = await module.queuedSpend(id);
  if (Number(q.status) === 0) throw new CliError(`no queued spend ${id}`);
  return toQueuedSpendView(q);
}

/** What a queued spend's status means now: waiting for owners, in its delay, executable, expired or done. */
export function queueState(q: QueuedSpendView, now: number, window: number): string {
  const status = queueStatusName(q.status);
  if (status !== "Approved") return status === "Pending" ? "awaiting owners" : status.toLowerCase();
  const at = Number(q.executableAt);
  if (now < at) return `approved, executable in ${at - now} s`;
  if (now > at + window) return "expired";
  return "executable";
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `covenant spend …`: the agent's spends, the owners' approval queue, freeze, sweep and policy. */
export function registerSpendCommands(program: Command, withContext: WithContext): void {
  const spend = program.command("spend").description("spend from the agent's Safe within limits; the approval queue");

  spend
    .command("policy <agentId> [token]")
    .description("the agent's Safe, freeze, and a token's caps and what is left today (token: address or eth)")
    .action(
      withContext(async (ctx, id: string, tokenValue: string | undefined) => {
        const module = moduleOf(ctx);
        const token = tokenArg(tokenValue);
        const [state, policy, decimals] = await Promise.all([
          module.agentState(agentId(id)),
          module.tokenPolicy(agentId(id), token),
          decimalsOf(ctx, token).catch(() => 0),
        ]);
        const fmt = (v: bigint) => (decimals ? formatUnits(v, decimals) : v.toString());
        printJson({
          agentId: id,
          safe: state.safe,
          frozen: state.frozen,
          frozenAt: Number(state.frozenAt),
          queueDelaySeconds: Number(state.queueDelay),
          cold: state.cold,
          token,
          perTxCap: fmt(policy.perTxCap),
          dailyCap: fmt(policy.dailyCap),
          spentToday: fmt(policy.spentToday),
          remainingToday: fmt(policy.remainingToday),
          hotThreshold: fmt(policy.hotThreshold),
          sweepEnabled: policy.sweepEnabled,
        });
      }),
    );

  const spendOptions = (cmd: Command) =>
    cmd
      .option("--token <address>", "the ERC-20 (default: ETH)")
      .option("--raw", "the amount is in base units (wei), not in the token's units")
      .option("--gas <n>", "gas the call is given", DEFAULT_TRANSFER_GAS.toString())
      .option("--deadline <seconds>", "signature lifetime in seconds from the chain's latest block", "3600")
      .option("--sign-only", "print (or --out) the signed Spend for a relayer; send nothing")
      .option("--out <file>", "with --sign-only: write it to this file")
      .option("--relayer-key-env <VAR>", "send from the key in this variable instead of the agent key");

  type SpendOpts = {
    token?: string;
    raw?: boolean;
    gas: string;
    deadline: string;
    signOnly?: boolean;
    out?: string;
    relayerKeyEnv?: string;
    data?: string;
  };

  /** Signs a Spend with the agent key; relays it now (spend or queue) or writes it for a relayer. */
  async function signAndRelay(
    ctx: CliContext,
    fields: { agentId: bigint; token: string; to: string; amount: bigint; data?: string },
    opts: SpendOpts,
    mode: "spend" | "queue",
  ): Promise<void> {
    moduleOf(ctx);
    if (!/^\d+$/.test(opts.gas)) throw new CliError(`--gas must be an integer, got "${opts.gas}"`);
    const action = buildSpend(ctx.deployment, {
      agentId: fields.agentId,
      token: fields.token as `0x${string}`,
      to: fields.to as `0x${string}`,
      amount: fields.amount,
      data: (fields.data ?? "0x") as `0x${string}`,
      nonce: randomNonce(),
      deadline: BigInt((await latestTimestamp(ctx)) + Number(opts.deadline)),
      gas: BigInt(opts.gas),
    });
    process.stderr.write(`Typed data to sign (Spend):\n${actionToJson(action)}\n`);
    const agentKey = await loadWallet(ctx, ctx.options.keyEnv, ctx.options.keystore);
    const signed = await signAction(await fromEthersSigner(agentKey), action);
    if (opts.signOnly) {
      const json = actionToJson(signed);
      if (opts.out) {
        const { writeFileSync } = await import("node:fs");
        writeFileSync(opts.out, `${json}\n`);
        process.stderr.write(`signed Spend written to ${opts.out} (relay it with: covenant relay ${opts.out})\n`);
      } else console.log(json);
      return;
    }
    const sender = opts.relayerKeyEnv ? await loadWallet(ctx, opts.relayerKeyEnv) : agentKey;
    const call = spendRelayCall(signed, mode);
    await sendAndReport(ctx, sender, { to: call.to, data: call.data }, `Spend via ${call.functionName}`);
  }

  spendOptions(
    spend.command("send <agentId> <to> <amount>").description("send ETH or a token within the caps (agent key)"),
  ).action(
    withContext(async (ctx, id: string, to: string, amount: string, opts: SpendOpts) => {
      const token = tokenArg(opts.token);
      const fields = {
        agentId: agentId(id),
        token,
        to: address(to, "recipient"),
        amount: await amountArg(ctx, token, amount, opts.raw),
      };
      await signAndRelay(ctx, fields, opts, "spend");
    }),
  );

  spendOptions(
    spend
      .command("call <agentId> <target> <data>")
      .description("call an allowed (target, selector) from the Safe; --value sends ETH (agent key)"),
  )
    .option("--value <amount>", "ETH sent with the call", "0")
    .action(
      withContext(async (ctx, id: string, target: string, data: string, opts: SpendOpts & { value: string }) => {
        if (!/^0x([0-9a-fA-F]{2}){4,}$/.test(data))
          throw new CliError("data must be 0x-prefixed hex, at least a selector");
        const value = await amountArg(ctx, ETH, opts.value, opts.raw);
        await signAndRelay(
          ctx,
          { agentId: agentId(id), token: ETH, to: address(target, "target"), amount: value, data },
          opts,
          "spend",
        );
      }),
    );

  spendOptions(
    spend
      .command("request <agentId> <to> <amount>")
      .description("queue a spend above the per-transaction cap for the Safe's owners (agent key)"),
  )
    .option("--data <hex>", "call data, for a call above the cap (then amount is the ETH value)")
    .action(
      withContext(async (ctx, id: string, to: string, amount: string, opts: SpendOpts) => {
        const token = tokenArg(opts.token);
        const fields = {
          agentId: agentId(id),
          token,
          to: address(to, "recipient"),
          amount: await amountArg(ctx, token, amount, opts.raw),
          data: opts.data,
        };
        await signAndRelay(ctx, fields, opts, "queue");
      }),
    );

  spend
    .command("queue")
    .description("the large-spend queue with each spend's status")
    .option("--agent <agentId>", "only this agent's spends")
    .option("--open", "only spends awaiting owners, in their delay or executable")
    .action(
      withContext(async (ctx, opts: { agent?: string; open?: boolean }) => {
        const module = moduleOf(ctx);
        const [length, window, now] = await Promise.all([
          module.queueLength(),
          module.EXECUTION_WINDOW(),
          latestTimestamp(ctx),
        ]);
        const rows = [];
        for (let start = 0n; start < length; start += 100n) {
          for (const [i, q] of (await module.queuedSpends(start, 100n)).entries()) {
            const view = toQueuedSpendView(q);
            if (opts.agent !== undefined && view.agentId !== agentId(opts.agent)) continue;
            const state = queueState(view, now, Number(window));
            if (opts.open && !["awaiting owners", "executable"].includes(state) && !state.startsWith("approved"))
              continue;
            rows.push({
              queueId: (start + BigInt(i)).toString(),
              agentId: view.agentId.toString(),
              safe: view.safe,
              token: view.token,
              to: view.to,
              amount: view.amount.toString(),
              call: view.data !== "0x" ? view.data.slice(0, 10) : undefined,
              status: queueStatusName(view.status),
              state,
              executableAt: Number(view.executableAt) || undefined,
            });
          }
        }
        if (ctx.options.json) printJson(rows);
        else if (rows.length === 0) console.log("the queue is empty");
        else {
          for (const r of rows) {
            const what =
              r.token === ETH ? `${formatUnits(r.amount, 18)} ETH` : `${r.amount} (base units) of ${r.token}`;
            const call = r.call ? ` calling ${r.call} on` : " to";
            console.log(`#${r.queueId} agent ${r.agentId}: ${what}${call} ${r.to} — ${r.state}`);
          }
        }
      }),
    );

  spend
    .command("approve <queueId>")
    .description("the Safe's owners approve a queued spend: each named key signs the approval (protocol-kit)")
    .addOption(
      new Option("--owner-key-env <VAR>", "an owner's key (repeat for each owner)").argParser(collect).default([]),
    )
    .option("--sign-only", "print this owner's signature for someone else to submit")
    .option("--signature <owner:hex>", "another owner's signature from --sign-only (repeatable)", collect, [])
    .option("--sender-key-env <VAR>", "send the approval from this key (default: the first owner key)")
    .action(
      withContext(
        async (
          ctx,
          queueIdValue: string,
          opts: { ownerKeyEnv: string[]; signOnly?: boolean; signature: string[]; senderKeyEnv?: string },
        ) => {
          const module = moduleOf(ctx);
          const id = queueIdArg(queueIdValue);
          const q = await queuedView(module, id);
          const typedData = approveSpendTypedData(ctx.chainId, (await module.getAddress()) as `0x${string}`, id, q);
          process.stderr.write(
            `Approval to sign (ApproveSpend, wrapped as a Safe message of ${q.safe}):\n${actionToJson(typedData as never)}\n`,
          );
          const keys = keysFromEnv(opts.ownerKeyEnv);
          const { default: SafeKit, buildSignatureBytes, EthSafeSignature } = await import("@safe-global/protocol-kit");
          const { connectSafe } = await import("../../deploy/safe");
          const signatures: InstanceType<typeof EthSafeSignature>[] = [];
          for (const key of keys) {
            const kit: InstanceType<typeof SafeKit> = await connectSafe(await safeConnection(ctx, key), q.safe);
            const message = await kit.signMessage(kit.createMessage(typedData as never));
            signatures.push(...message.signatures.values());
          }
          for (const s of opts.signature) {
            const [signer, data] = s.split(":");
            if (!signer || !data || !isAddress(signer) || !/^0x[0-9a-fA-F]{130}$/.test(data)) {
              throw new CliError(`--signature must be <owner address>:<65-byte hex signature>, got "${s}"`);
            }
            signatures.push(new EthSafeSignature(getAddress(signer), data));
          }
          if (opts.signOnly) {
            for (const s of signatures) console.log(`${s.signer}:${s.data}`);
            return;
          }
          const bytes = buildSignatureBytes(signatures);
          const sender = await loadWallet(ctx, opts.senderKeyEnv ?? opts.ownerKeyEnv[0]!);
          const data = module.interface.encodeFunctionData("approveQueuedSpendBySig", [id, bytes]);
          await sendAndReport(ctx, sender, { to: await module.getAddress(), data }, `approve queued spend ${id}`);
        },
      ),
    );

  const keyOrCalldata = (cmd: Command, defaultEnv: string) =>
    cmd
      .option("--sender-key-env <VAR>", "the key that sends", defaultEnv)
      .option("--calldata-only", "print the transaction for a Safe (the guardian's or the agent's) instead");

  const sendOrPrint = async (
    ctx: CliContext,
    opts: { senderKeyEnv: string; calldataOnly?: boolean },
    data: string,
    label: string,
  ) => {
    const to = await moduleOf(ctx).getAddress();
    if (opts.calldataOnly) {
      printJson({ to, value: "0", data });
      return;
    }
    const sender: Wallet = await loadWallet(ctx, opts.senderKeyEnv);
    await sendAndReport(ctx, sender, { to, data }, label);
  };

  keyOrCalldata(
    spend.command("veto <queueId>").description("veto a queued spend: an owner of its Safe, or the guardian"),
    "COVENANT_OWNER_KEY",
  ).action(
    withContext(async (ctx, id: string, opts: { senderKeyEnv: string; calldataOnly?: boolean }) => {
      const data = moduleOf(ctx).interface.encodeFunctionData("vetoQueuedSpend", [queueIdArg(id)]);
      await sendOrPrint(ctx, opts, data, `veto queued spend ${id}`);
    }),
  );

  keyOrCalldata(
    spend.command("execute <queueId>").description("execute an approved queued spend after its delay (anyone)"),
    "COVENANT_RELAYER_KEY",
  ).action(
    withContext(async (ctx, id: string, opts: { senderKeyEnv: string; calldataOnly?: boolean }) => {
      const data = moduleOf(ctx).interface.encodeFunctionData("executeQueuedSpend", [queueIdArg(id)]);
      await sendOrPrint(ctx, opts, data, `execute queued spend ${id}`);
    }),
  );

  keyOrCalldata(
    spend.command("freeze <agentId>").description("freeze an agent: an owner, the council or the sentinel key"),
    "COVENANT_OWNER_KEY",
  ).action(
    withContext(async (ctx, id: string, opts: { senderKeyEnv: string; calldataOnly?: boolean }) => {
      const data = moduleOf(ctx).interface.encodeFunctionData("freeze", [agentId(id)]);
      await sendOrPrint(ctx, opts, data, `freeze agent ${id}`);
    }),
  );

  spend
    .command("sweep <agentId> [token]")
    .description("move the Safe's balance above its hot threshold to the cold address (anyone)")
    .option("--sender-key-env <VAR>", "the key that sends", "COVENANT_RELAYER_KEY")
    .action(
      withContext(async (ctx, id: string, token: string | undefined, opts: { senderKeyEnv: string }) => {
        const data = moduleOf(ctx).interface.encodeFunctionData("sweep", [agentId(id), tokenArg(token)]);
        await sendOrPrint(ctx, opts, data, `sweep agent ${id}`);
      }),
    );

  spend
    .command("bind <agentId> <safe>")
    .description("bind the agent to its Safe (operator key); the Safe must have the module enabled")
    .option("--operator-key-env <VAR>", "environment variable holding the operator key", "COVENANT_OPERATOR_KEY")
    .action(
      withContext(async (ctx, id: string, safe: string, opts: { operatorKeyEnv: string }) => {
        const data = moduleOf(ctx).interface.encodeFunctionData("bindSafe", [agentId(id), address(safe, "safe")]);
        await sendOrPrint(ctx, { senderKeyEnv: opts.operatorKeyEnv }, data, `bind agent ${id} to ${safe}`);
      }),
    );

  // The owners' side: every change of policy is a Safe transaction, signed by the named owner keys.
  const ownersTx = (cmd: Command) =>
    cmd
      .addOption(
        new Option("--owner-key-env <VAR>", "an owner's key (repeat for each owner)").argParser(collect).default([]),
      )
      .option("--calldata-only", "print the Safe transaction for the Safe's web app instead");

  const asSafe = async (
    ctx: CliContext,
    agent: bigint,
    opts: { ownerKeyEnv: string[]; calldataOnly?: boolean },
    data: string,
    label: string,
  ) => {
    const module = moduleOf(ctx);
    const to = await module.getAddress();
    const safe = (await module.agentState(agent)).safe;
    if (safe === ZeroAddress) throw new CliError(`agent ${agent} is not bound to a Safe`);
    if (opts.calldataOnly) {
      printJson({ safe, to, value: "0", data });
      return;
    }
    const keys = keysFromEnv(opts.ownerKeyEnv);
    const { execSafeTransaction } = await import("../../sdk/safe");
    const hash = await execSafeTransaction(await safeConnection(ctx, keys[0]!), safe, keys, [
      { to: to as `0x${string}`, data: data as `0x${string}` },
    ]);
    if (ctx.options.json) printJson({ action: label, tx: hash });
    else console.log(`${label}: Safe transaction ${hash}`);
  };

  ownersTx(
    spend
      .command("set-policy <agentId> <perTxCap> <dailyCap>")
      .description("the Safe's owners set a token's caps for the agent")
      .option("--token <address>", "the ERC-20 (default: ETH)")
      .option("--raw", "amounts in base units"),
  ).action(
    withContext(
      async (
        ctx,
        id: string,
        perTx: string,
        daily: string,
        opts: { token?: string; raw?: boolean; ownerKeyEnv: string[]; calldataOnly?: boolean },
      ) => {
        const token = tokenArg(opts.token);
        const data = moduleOf(ctx).interface.encodeFunctionData("setTokenPolicy", [
          agentId(id),
          token,
          await amountArg(ctx, token, perTx, opts.raw),
          await amountArg(ctx, token, daily, opts.raw),
        ]);
        await asSafe(ctx, agentId(id), opts, data, `set policy of agent ${id}`);
      },
    ),
  );

  ownersTx(
    spend.command("set-delay <agentId> <seconds>").description("the owners set the queue delay (1 h to 30 days)"),
  ).action(
    withContext(async (ctx, id: string, seconds: string, opts: { ownerKeyEnv: string[]; calldataOnly?: boolean }) => {
      if (!/^\d+$/.test(seconds)) throw new CliError(`seconds must be an integer, got "${seconds}"`);
      const data = moduleOf(ctx).interface.encodeFunctionData("setQueueDelay", [agentId(id), Number(seconds)]);
      await asSafe(ctx, agentId(id), opts, data, `set queue delay of agent ${id}`);
    }),
  );

  ownersTx(
    spend.command("set-cold <agentId> <cold>").description("the owners set the cold address sweeps go to"),
  ).action(
    withContext(async (ctx, id: string, cold: string, opts: { ownerKeyEnv: string[]; calldataOnly?: boolean }) => {
      const data = moduleOf(ctx).interface.encodeFunctionData("setColdAddress", [agentId(id), address(cold, "cold")]);
      await asSafe(ctx, agentId(id), opts, data, `set cold address of agent ${id}`);
    }),
  );

  ownersTx(
    spend
      .command("set-hot-threshold <agentId> <threshold>")
      .description("the owners set the balance kept in the Safe; sweeps move the rest to cold")
      .option("--token <address>", "the ERC-20 (default: ETH)")
      .option("--raw", "amount in base units")
      .option("--disable", "stop sweeping this token"),
  ).action(
    withContext(
      async (
        ctx,
        id: string,
        threshold: string,
        opts: { token?: string; raw?: boolean; disable?: boolean; ownerKeyEnv: string[]; calldataOnly?: boolean },
      ) => {
        const token = tokenArg(opts.token);
        const data = moduleOf(ctx).interface.encodeFunctionData("setHotThreshold", [
          agentId(id),
          token,
          await amountArg(ctx, token, threshold, opts.raw),
          !opts.disable,
        ]);
        await asSafe(ctx, agentId(id), opts, data, `set hot threshold of agent ${id}`);
      },
    ),
  );

  ownersTx(
    spend
      .command("allow-call <agentId> <target> <selector>")
      .description("the owners allow (or --revoke) the agent's calls to target with a 4-byte selector")
      .option("--revoke", "disallow instead"),
  ).action(
    withContext(
      async (
        ctx,
        id: string,
        target: string,
        selector: string,
        opts: { revoke?: boolean; ownerKeyEnv: string[]; calldataOnly?: boolean },
      ) => {
        if (!/^0x[0-9a-fA-F]{8}$/.test(selector))
          throw new CliError(`selector must be 0x + 8 hex digits, got "${selector}"`);
        const data = moduleOf(ctx).interface.encodeFunctionData("setCallPermission", [
          agentId(id),
          address(target, "target"),
          selector,
          !opts.revoke,
        ]);
        await asSafe(ctx, agentId(id), opts, data, `${opts.revoke ? "revoke" : "allow"} call for agent ${id}`);
      },
    ),
  );

  spend
    .command("setup-safe <agentId>")
    .description("create the agent's Safe with protocol-kit, enable the module and bind the agent (operator key)")
    .requiredOption("--owners <addresses>", "comma-separated owners (the operator among them)")
    .option("--threshold <n>", "signatures required", "2")
    .option("--salt <n>", "salt nonce of the Safe's address", "0")
    .addOption(
      new Option("--owner-key-env <VAR>", "an owner's key (repeat up to the threshold)").argParser(collect).default([]),
    )
    .option("--operator-key-env <VAR>", "environment variable holding the operator key", "COVENANT_OPERATOR_KEY")
    .action(
      withContext(
        async (
          ctx,
          id: string,
          opts: { owners: string; threshold: string; salt: string; ownerKeyEnv: string[]; operatorKeyEnv: string },
        ) => {
          const module = moduleOf(ctx);
          const owners = opts.owners.split(",").map((o) => address(o.trim(), "owner"));
          const threshold = Number(opts.threshold);
          if (!Number.isInteger(threshold) || threshold < 1 || threshold > owners.length) {
            throw new CliError(`--threshold must be 1 to ${owners.length}`);
          }
          if (!/^\d+$/.test(opts.salt)) throw new CliError(`--salt must be a decimal integer`);
          const keys = keysFromEnv(opts.ownerKeyEnv);
          const { createSafe } = await import("../../deploy/safe");
          const { enableModuleCall, execSafeTransaction } = await import("../../sdk/safe");
          const conn = await safeConnection(ctx, keys[0]!);
          const created = await createSafe(conn, owners, threshold, opts.salt);
          console.log(
            `Safe ${created.address} ${created.created ? `created (tx ${created.txHash})` : "already deployed"}`,
          );
          const moduleAddress = await module.getAddress();
          const enabled = await new Contract(
            created.address,
            ["function isModuleEnabled(address) view returns (bool)"],
            ctx.provider,
          ).isModuleEnabled!(moduleAddress);
          if (!enabled) {
            const hash = await execSafeTransaction(conn, created.address, keys, [
              enableModuleCall(created.address, moduleAddress),
            ]);
            console.log(`module enabled: Safe transaction ${hash}`);
          }
          const data = module.interface.encodeFunctionData("bindSafe", [agentId(id), created.address]);
          await sendOrPrint(ctx, { senderKeyEnv: opts.operatorKeyEnv }, data, `bind agent ${id} to ${created.address}`);
        },
      ),
    );

  ownersTx(spend.command("unfreeze <agentId>").description("the Safe's owners lift a freeze")).action(
    withContext(async (ctx, id: string, opts: { ownerKeyEnv: string[]; calldataOnly?: boolean }) => {
      const data = moduleOf(ctx).interface.encodeFunctionData("unfreeze", [agentId(id)]);
      await asSafe(ctx, agentId(id), opts, data, `unfreeze agent ${id}`);
    }),
  );
}
