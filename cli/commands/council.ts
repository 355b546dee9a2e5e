import type { Command } from "commander";
import type { CliContext } from "../context";
import { loadWallet, uintArg } from "../context";
import { sendAndReport } from "../signed";
import { agentId } from "./agent";

type WithContext = <T extends unknown[]>(
  fn: (ctx: CliContext, ...args: T) => Promise<void>,
) => (...args: T) => Promise<void>;

/**
 * `covenant council …`. The council is a Safe: `--calldata-only` prints the transaction for the Safe's transaction
 * builder instead of sending it from a key.
 */
export function registerCouncilCommands(program: Command, withContext: WithContext): void {
  const council = program.command("council").description("council flags on agents' records");

  const send = async (
    ctx: CliContext,
    opts: { calldataOnly?: boolean; councilKeyEnv: string },
    data: string,
    label: string,
  ) => {
    const tx = { to: ctx.deployment.flags as string, data };
    if (opts.calldataOnly) {
      console.log(JSON.stringify({ to: tx.to, value: "0", data }, null, 2));
      return;
    }
    await sendAndReport(ctx, await loadWallet(ctx, opts.councilKeyEnv), tx, label);
  };

  council
    .command("flag <agentId> <reason>")
    .description("flag an agent's record with a reason")
    .option("--calldata-only", "print the Safe transaction instead of sending it")
    .option("--council-key-env <VAR>", "environment variable holding a council key", "COVENANT_COUNCIL_KEY")
    .action(
      withContext(async (ctx, id: string, reason: string, opts: { calldataOnly?: boolean; councilKeyEnv: string }) => {
        await send(ctx, opts, ctx.flags.interface.encodeFunctionData("flag", [agentId(id), reason]), "flag");
      }),
    );

  council
    .command("resolve <flagId> <note>")
    .description("resolve an open or answered flag")
    .option("--calldata-only", "print the Safe transaction instead of sending it")
    .option("--council-key-env <VAR>", "environment variable holding a council key", "COVENANT_COUNCIL_KEY")
    .action(
      withContext(
        async (ctx, flagId: string, note: string, opts: { calldataOnly?: boolean; councilKeyEnv: string }) => {
          await send(
            ctx,
            opts,
            ctx.flags.interface.encodeFunctionData("resolveFlag", [uintArg(flagId, "flag id"), note]),
            "resolveFlag",
          );
        },
      ),
    );

  council
    .command("escalate <flagId>")
    .description("escalate a flag to governance")
    .option("--calldata-only", "print the Safe transaction instead of sending it")
    .option("--council-key-env <VAR>", "environment variable holding a council key", "COVENANT_COUNCIL_KEY")
    .action(
      withContext(async (ctx, flagId: string, opts: { calldataOnly?: boolean; councilKeyEnv: string }) => {
        await send(
          ctx,
          opts,
          ctx.flags.interface.encodeFunctionData("escalateFlag", [uintArg(flagId, "flag id")]),
          "escalateFlag",
        );
      }),
    );
}
