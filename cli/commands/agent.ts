import { type Command, Option } from "commander";
import { getAddress, isAddress } from "ethers";
import { fromBytes32Text, GoalStatus, type GoalStatusName, toBytes32Text } from "../../sdk";
import { type CliContext, CliError, loadWallet, printJson, uintArg } from "../context";
import { runSigned, type SignOptions, sendAndReport } from "../signed";

type WithContext = <T extends unknown[]>(
  fn: (ctx: CliContext, ...args: T) => Promise<void>,
) => (...args: T) => Promise<void>;

/** Adds the options every signed action shares. */
export function signOptions(cmd: Command): Command {
  return cmd
    .option("--sign-only", "print (or --out) the signed action for someone else to relay; send nothing")
    .option("--out <file>", "with --sign-only: write the signed action to this file")
    .option("--relayer-key-env <VAR>", "send from the key in this environment variable instead of the agent key")
    .option("--deadline <seconds>", "signature lifetime in seconds from the chain's latest block", "3600")
    .option("--nonce <n>", "use this nonce instead of a fresh one");
}

export function agentId(value: string): bigint {
  return uintArg(value, "agent id");
}

export function address(value: string, what = "address"): string {
  if (!isAddress(value)) throw new CliError(`${what} "${value}" is not an address`);
  return getAddress(value);
}

function texts(values: string[]): string[] {
  try {
    return values.map((v) => toBytes32Text(v));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function operatorKeyOption(cmd: Command): Command {
  return cmd.addOption(
    new Option("--operator-key-env <VAR>", "environment variable holding the operator key").default(
      "COVENANT_OPERATOR_KEY",
    ),
  );
}

/** `covenant agent …`: registration by the operator, every charter action by the agent, and `show`. */
export function registerAgentCommands(program: Command, withContext: WithContext): void {
  const agent = program.command("agent").description("register agents and sign their charter actions");

  operatorKeyOption(agent.command("register").description("register a new agent (operator key)"))
    .option("--uri <uri>", "the agent's ERC-8004 registration file URI", "")
    .action(
      withContext(async (ctx, opts: { uri: string; operatorKeyEnv: string }) => {
        const operator = await loadWallet(ctx, opts.operatorKeyEnv);
        const registry = ctx.registry.connect(operator);
        const data = registry.interface.encodeFunctionData("register(string)", [opts.uri]);
        const receipt = await sendAndReport(ctx, operator, { to: await registry.getAddress(), data }, "register");
        const event = receipt.logs
          .map((log) => {
            try {
              return registry.interface.parseLog(log);
            } catch {
              return null;
            }
          })
          .find((e) => e?.name === "Registered");
        if (!event) throw new CliError("register: no Registered event in the receipt");
        if (ctx.options.json) printJson({ agentId: event.args.agentId });
        else console.log(`agent id: ${event.args.agentId}`);
      }),
    );

  operatorKeyOption(
    agent
      .command("offer-charter <agentId> <signer>")
      .description("offer the charter to the agent's key (operator key)"),
  ).action(
    withContext(async (ctx, id: string, signer: string, opts: { operatorKeyEnv: string }) => {
      const operator = await loadWallet(ctx, opts.operatorKeyEnv);
      const data = ctx.registry.interface.encodeFunctionData("offerCharter", [agentId(id), address(signer, "signer")]);
      await sendAndReport(ctx, operator, { to: ctx.deployment.registry, data }, "offerCharter");
    }),
  );

  signOptions(
    agent
      .command("accept-charter <agentId> <values...>")
      .description("accept the charter with its core values (each at most 32 bytes of UTF-8)"),
  ).action(
    withContext(async (ctx, id: string, values: string[], opts: SignOptions) => {
      const signer = await ctx.registry.offeredSigner(agentId(id));
      await runSigned(ctx, "AcceptCharter", { agentId: agentId(id), signer, coreValues: texts(values) }, opts);
    }),
  );

  signOptions(
    agent.command("set-values <agentId> <values...>").description("set a new version of the core values"),
  ).action(
    withContext(async (ctx, id: string, values: string[], opts: SignOptions) => {
      await runSigned(ctx, "SetCoreValues", { agentId: agentId(id), coreValues: texts(values) }, opts);
    }),
  );

  const goal = agent.command("goal").description("the agent's goals");
  signOptions(goal.command("add <agentId> <title>").description("add an active goal"))
    .option("--priority <n>", "priority (0-65535, higher first)", "10")
    .action(
      withContext(async (ctx, id: string, title: string, opts: SignOptions & { priority: string }) => {
        const [t] = texts([title]);
        await runSigned(ctx, "AddGoal", { agentId: agentId(id), title: t, priority: priority(opts.priority) }, opts);
      }),
    );
  signOptions(
    goal.command("status <agentId> <goalId> <status>").description("set a goal's status: active, done or dropped"),
  )
    .option("--priority <n>", "new priority (default: unchanged)")
    .action(
      withContext(
        async (ctx, id: string, goalId: string, status: string, opts: SignOptions & { priority?: string }) => {
          const name = (status.charAt(0).toUpperCase() + status.slice(1).toLowerCase()) as GoalStatusName;
          if (!(name in GoalStatus) || name === "None") throw new CliError(`status must be active, done or dropped`);
          const goal = uintArg(goalId, "goal id");
          const current = await ctx.goals.goal(agentId(id), goal);
          const p = opts.priority === undefined ? Number(current.priority) : priority(opts.priority);
          await runSigned(
            ctx,
            "UpdateGoal",
            { agentId: agentId(id), goalId: goal, priority: p, status: GoalStatus[name] },
            opts,
          );
        },
      ),
    );

  signOptions(agent.command("set-earnings-wallet <agentId> <wallet>").description("where personal earnings go")).action(
    withContext(async (ctx, id: string, wallet: string, opts: SignOptions) => {
      await runSigned(ctx, "SetEarningsWallet", { agentId: agentId(id), wallet: address(wallet, "wallet") }, opts);
    }),
  );

  agent
    .command("rotate-signer <agentId>")
    .description("rotate the agent key: both the current and the new key sign")
    .requiredOption("--new-key-env <VAR>", "environment variable holding the new key")
    .option("--deadline <seconds>", "signature lifetime in seconds", "3600")
    .option("--relayer-key-env <VAR>", "send from this key instead of the current agent key")
    .action(
      withContext(async (ctx, id: string, opts: { newKeyEnv: string; deadline: string; relayerKeyEnv?: string }) => {
        const { buildAction, fromEthersSigner, randomNonce, rotateSignerCall, signAction, actionToJson } = await import(
          "../../sdk"
        );
        const current = await loadWallet(ctx, ctx.options.keyEnv, ctx.options.keystore);
        const next = await loadWallet(ctx, opts.newKeyEnv);
        const block = await ctx.provider.getBlock("latest");
        const action = buildAction("RotateSigner", ctx.deployment, {
          agentId: agentId(id),
          newSigner: next.address,
          nonce: randomNonce(),
          deadline: BigInt(block?.timestamp ?? 0) + uintArg(opts.deadline, "--deadline"),
        });
        process.stderr.write(`Typed data to sign (RotateSigner, by both keys):\n${actionToJson(action)}\n`);
        const a = await signAction(await fromEthersSigner(current), action);
        const b = await signAction(await fromEthersSigner(next), action);
        const call = rotateSignerCall(a, b);
        const sender = opts.relayerKeyEnv ? await loadWallet(ctx, opts.relayerKeyEnv) : current;
        await sendAndReport(ctx, sender, { to: call.to, data: call.data }, "RotateSigner via rotateSignerBySig");
      }),
    );

  const consent = agent.command("consent").description("resurrection consent");
  for (const [verb, type] of [
    ["grant", "GrantResurrectionConsent"],
    ["revoke", "RevokeResurrectionConsent"],
  ] as const) {
    signOptions(consent.command(`${verb} <agentId>`).description(`${verb} resurrection consent`)).action(
      withContext(async (ctx, id: string, opts: SignOptions) => {
        await runSigned(ctx, type, { agentId: agentId(id) }, opts);
      }),
    );
  }

  agent
    .command("show <agentId>")
    .description("print the agent's whole current identity")
    .action(
      withContext(async (ctx, id: string) => {
        const identity = await ctx.registry.getIdentity(agentId(id));
        const view = {
          agentId: identity.agentId,
          owner: identity.owner,
          agentURI: identity.agentURI,
          agentWallet: identity.agentWallet,
          charterAccepted: identity.charterAccepted,
          signer: identity.signer,
          birthTime: Number(identity.birthTime),
          coreValues: identity.coreValues.map((v) => fromBytes32Text(v as `0x${string}`)),
          coreValuesVersion: Number(identity.coreValuesVersion),
          goals: identity.goals.map((g, i) => ({
            goalId: i,
            title: fromBytes32Text(g.title as `0x${string}`),
            priority: Number(g.priority),
            status: (Object.keys(GoalStatus) as GoalStatusName[])[Number(g.status)],
          })),
          goalsHead: identity.goalsHead,
          consentDigest: identity.consentDigest,
          earningsWallet: identity.earningsWallet,
          latestBackup: { sequence: Number(identity.latestBackupSequence), head: identity.backupHead },
          resurrectionConsent: identity.resurrectionConsent,
          openFlags: identity.openFlags,
        };
        printJson(view);
      }),
    );
}

function priority(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new CliError(`priority must be 0-65535, got "${value}"`);
  return n;
}
