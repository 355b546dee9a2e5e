import { Command, CommanderError } from "commander";
import { registerAgentCommands } from "./commands/agent";
import { registerBackupCommands } from "./commands/backup";
import { registerCouncilCommands } from "./commands/council";
import { registerEarningsCommands } from "./commands/earnings";
import { registerGovernanceCommands } from "./commands/governance";
import { registerSpendCommands } from "./commands/spend";
import { type CliContext, CliError, type GlobalOptions, loadContext } from "./context";
import { describeError, relayFile } from "./signed";

/**
 * The `covenant` command line. Every command that signs prints the typed data first; keys come from the
 * environment or an encrypted keystore, never from arguments.
 */
export function buildProgram(): Command {
  const program = new Command("covenant")
    .description("Covenant: identity, consent and charter of autonomous agents, from the command line")
    .option("--rpc <url>", "JSON-RPC endpoint", process.env.COVENANT_RPC_URL ?? "http://127.0.0.1:8545")
    .option(
      "--deployment <file>",
      "deployment record (default: deployments/<chainId>.json)",
      process.env.COVENANT_DEPLOYMENT,
    )
    .option("--key-env <VAR>", "environment variable holding the agent key", "COVENANT_AGENT_KEY")
    .option("--keystore <file>", "encrypted JSON keystore of the agent key (password in COVENANT_KEYSTORE_PASSWORD)")
    .option("--json", "print results as JSON")
    .showHelpAfterError()
    .exitOverride();

  const withContext =
    <T extends unknown[]>(fn: (ctx: CliContext, ...args: T) => Promise<void>) =>
    async (...args: T): Promise<void> => {
      const ctx = await loadContext(program.opts<GlobalOptions>());
      try {
        await fn(ctx, ...args);
      } finally {
        ctx.provider.destroy();
      }
    };

  registerAgentCommands(program, withContext);
  registerCouncilCommands(program, withContext);
  registerGovernanceCommands(program, withContext);
  registerEarningsCommands(program, withContext);
  registerSpendCommands(program, withContext);
  registerBackupCommands(program, withContext);

  program
    .command("relay <file>")
    .description("send a signed action written by --sign-only")
    .option("--relayer-key-env <VAR>", "send from the key in this environment variable")
    .action(
      withContext(async (ctx, file: string, opts: { relayerKeyEnv?: string }) => {
        await relayFile(ctx, file, opts.relayerKeyEnv);
      }),
    );
  return program;
}

/** Runs the CLI; exit code 0 on success, 1 on a failed transaction or unexpected error, 2 on bad input. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      console.error(`error: ${err.message}`);
      return err.exitCode;
    }
    console.error(`error: ${describeError(err)}`);
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
