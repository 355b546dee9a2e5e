/**
 * Swarm simulation: the real contracts on a hardhat node and the real keepers as processes, a swarm of agents doing
 * rounds of work while failures are injected, then every book reconciled (docs/simulation.md).
 *
 *   npm run simulate -- --agents 100 --rounds 3 --seed 1
 *   npm run simulate:ci                                  # 20 agents, 2 rounds
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run simulate -- --agents 20 --rounds 2
 *
 * Prints the report and writes it as JSON to --out. Exits 1 when an invariant fails (the reason is printed), 2 on a
 * usage error.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { FAILURE_CLASSES, type FailureClass, simulate } from "./simulate/run";

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

const program = new Command()
  .name("simulate")
  .description("Run the swarm simulation and reconcile every book")
  .option("--agents <n>", "agents in the swarm", int(10, 1_000), 100)
  .option("--rounds <n>", "rounds of work (one earnings epoch each)", int(1, 100), 3)
  .option("--seed <n>", "seed of the schedule: roles, payments, spends, faults", int(0, 2 ** 31 - 1), 1)
  .option("--out <file>", "where the JSON report goes", ".data/simulate/report.json")
  .option(
    "--failures <list>",
    `failure classes to inject, comma separated (${FAILURE_CLASSES.join(", ")})`,
    (v: string) => {
      const list = v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      const bad = list.find((f) => !(FAILURE_CLASSES as readonly string[]).includes(f));
      if (bad !== undefined) throw new InvalidArgumentError(`unknown failure class "${bad}"`);
      return list as FailureClass[];
    },
    [...FAILURE_CLASSES],
  )
  .option("--partition-ms <ms>", "how long the keepers are cut off", int(1_000, 600_000), 10_000)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

// Ctrl-C or a CI timeout: exit through process.exit so that the exit hooks kill the node and the keepers by PID.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

async function main() {
  program.parse();
  const o = program.opts<{
    agents: number;
    rounds: number;
    seed: number;
    out: string;
    failures: FailureClass[];
    partitionMs: number;
  }>();
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const report = await simulate({
    agents: o.agents,
    rounds: o.rounds,
    seed: o.seed,
    out: o.out,
    databaseUrl,
    failures: new Set(o.failures),
    partitionMs: o.partitionMs,
    command: `npm run simulate -- --agents ${o.agents} --rounds ${o.rounds} --seed ${o.seed}${databaseUrl ? " (DATABASE_URL set)" : ""}`,
  });
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`
simulation: ${report.agents} agents, ${report.rounds} rounds, seed ${report.seed}, ${report.database}
  roles:                       ${Object.entries(report.roles)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}
  failures injected:           ${report.failures.join(", ")}
  ledger divergence:           ${report.ledgerDivergence}
  unauthorized spend:          ${report.unauthorizedSpend.count} (${report.unauthorizedSpend.wei} wei)
  lost transactions:           ${report.lostTransactions}
  duplicated transactions:     ${report.duplicatedTransactions}
  lost backups:                ${report.lostBackups ?? "not measured"}
  corrupted restores accepted: ${report.corruptedRestoresAccepted ?? "not measured"}  (${report.backups})
  trust collapse:              ${pct(report.trustCollapse.share)} (${report.trustCollapse.harmedHonestAgents} of ${report.trustCollapse.honestAgents} honest agents harmed; target < 5%)${Object.keys(report.harms).length ? `\n    harms: ${JSON.stringify(report.harms)}` : ""}
  freezes:                     ${report.freezes.byzantineFrozen} of ${report.freezes.byzantine} byzantine agents frozen, ${report.freezes.wrongFreezes} honest agents frozen
  attacks (outcome):           ${JSON.stringify(report.attacks)}
  spends:                      ${report.spends.requests} requests, ${report.spends.confirmed} confirmed, ${report.spends.failedOnChain} reverted on chain, refused ${JSON.stringify(report.spends.refused)}
  sent during faults:          ${JSON.stringify(report.spends.duringFaults)}
  payments:                    ${report.payments.sent} sent, ${report.payments.paidEvents} Paid events, ${report.payments.epochs} epochs closed, ${report.payments.claimedLeaves} leaves claimed
  bad evolution:               ${report.evolution ? `other code under its hash refused: ${report.evolution.hashMismatchRefused}; keeper's simulation: ${report.evolution.attestation}; direct deploy refused: ${report.evolution.deployRefused}; deployed: ${report.evolution.deployed}` : "not injected"}
  unplanned keeper exits:      ${report.unplannedKeeperExits.map((e) => `${e.keeper} (code ${e.code})`).join(", ") || "none"}
  faults:                      ${report.faults.map((f) => `round ${f.round + 1}: ${f.detail}`).join("; ") || "none"}
  throughput:                  ${report.throughput.spendRequestsPerSecond} spend requests/s, ${report.throughput.confirmedSpendsPerSecond} confirmed spends/s, ${report.throughput.paymentsPerSecond} payments/s over ${report.throughput.workSeconds} s of rounds
  total time:                  ${report.throughput.totalSeconds} s
  report:                      ${out}`);
  for (const d of report.divergences.slice(0, 10)) console.log(`  divergence: ${d}`);
  for (const u of report.unauthorized.slice(0, 10)) console.log(`  unauthorized: ${u}`);
  for (const e of report.unplannedKeeperExits) console.log(`  ${e.keeper} exited on its own: ${e.lastLog}`);
  const failed = report.invariants.filter((i) => !i.ok);
  if (failed.length > 0) {
    for (const f of failed) console.error(`INVARIANT FAILED: ${f.name} is ${f.value}, must be ${f.target}`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
