/**
 * What one earnings epoch costs as the swarm grows: the earnings benchmark (scripts/bench/earnings.ts: a hardhat node,
 * the real RevenueRouter, EarningsDistributor and Treasury, every agent paid once, the earnings keeper as its own
 * process reading the events over JSON-RPC, building and posting the root, claiming every leaf) run at each size, one
 * after the other, each a child process of its own. Everything is measured; nothing is extrapolated.
 *
 *   npm run bench:scale                      # 100, 10,000 and 100,000 agents
 *   npm run bench:scale:ci                   # 100 and 1,000 agents
 *   npm run bench:scale -- --sizes 100,10000 --out .data/bench/scale.json
 *   npm run bench:scale -- --sizes 100,10000 --from-files   # the table from figures earlier runs wrote
 *
 * Prints a table per size (keeper time and peak memory, on-chain transactions and gas, each also per agent) and the
 * growth per added agent between consecutive sizes; writes the figures as JSON to --out (default
 * .data/bench/scale.json). Exits 1 when a size fails.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";

const REPO = path.resolve(__dirname, "..", "..");

type EarningsFigures = {
  agents: number;
  keeper: { epochSeconds: number; peakRssBytesAtRoot: number; peakRssBytesWithClaims: number; startupSeconds: number };
  gas: { postRoot: number; claims: number; claimBatches: number };
  claimSeconds: number;
  totalSeconds: number;
};

type Row = {
  agents: number;
  keeperEpochSeconds: number;
  claimSeconds: number;
  keeperPeakRssMiB: number;
  transactions: number;
  gas: number;
  perAgent: { keeperMs: number; gas: number; transactions: number; rssKiB: number };
  wallSeconds: number;
};

function runEarningsBench(agents: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join("scripts", "bench", "earnings.ts"),
        "--agents",
        String(agents),
      ],
      { cwd: REPO, stdio: ["ignore", "inherit", "inherit"], env: process.env },
    );
    const onSignal = () => child.kill("SIGTERM");
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    child.once("exit", (code) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (code === 0) resolve();
      else reject(new Error(`earnings benchmark at ${agents} agents exited ${code}`));
    });
  });
}

function row(f: EarningsFigures, wallSeconds: number): Row {
  const transactions = 1 + f.gas.claimBatches;
  const gas = f.gas.postRoot + f.gas.claims;
  const rss = f.keeper.peakRssBytesWithClaims;
  return {
    agents: f.agents,
    keeperEpochSeconds: f.keeper.epochSeconds,
    claimSeconds: f.claimSeconds,
    keeperPeakRssMiB: Math.round(rss / 2 ** 20),
    transactions,
    gas,
    perAgent: {
      keeperMs: Number((((f.keeper.epochSeconds + f.claimSeconds) * 1000) / f.agents).toFixed(3)),
      gas: Math.round(gas / f.agents),
      transactions: Number((transactions / f.agents).toFixed(5)),
      rssKiB: Number((rss / 1024 / f.agents).toFixed(2)),
    },
    wallSeconds,
  };
}

async function main() {
  const program = new Command()
    .name("bench:scale")
    .option(
      "--sizes <list>",
      "agent counts, comma separated",
      (v: string) => {
        const sizes = v.split(",").map((s) => Number(s.trim()));
        if (sizes.some((n) => !Number.isSafeInteger(n) || n < 2))
          throw new InvalidArgumentError("expected integers ≥ 2");
        return sizes;
      },
      [100, 10_000, 100_000],
    )
    .option("--out <file>", "JSON report", ".data/bench/scale.json")
    .option("--from-files", "report the figures earlier runs wrote to .data/bench/earnings-<N>.json, without running")
    .parse();
  const o = program.opts<{ sizes: number[]; out: string; fromFiles?: boolean }>();
  const rows: Row[] = [];
  for (const agents of o.sizes) {
    console.log(`\n=== ${agents} agents ===`);
    const t = Date.now();
    if (!o.fromFiles) await runEarningsBench(agents);
    const figures = JSON.parse(
      readFileSync(path.join(REPO, ".data", "bench", `earnings-${agents}.json`), "utf8"),
    ) as EarningsFigures;
    rows.push(row(figures, o.fromFiles ? figures.totalSeconds : (Date.now() - t) / 1000));
  }

  const growth = rows.slice(1).map((r, i) => {
    const p = rows[i]!;
    const dn = r.agents - p.agents;
    return {
      from: p.agents,
      to: r.agents,
      keeperMsPerAddedAgent: Number(
        (((r.keeperEpochSeconds + r.claimSeconds - p.keeperEpochSeconds - p.claimSeconds) * 1000) / dn).toFixed(3),
      ),
      gasPerAddedAgent: Math.round((r.gas - p.gas) / dn),
      transactionsPerAddedAgent: Number(((r.transactions - p.transactions) / dn).toFixed(5)),
      rssKiBPerAddedAgent: Number((((r.keeperPeakRssMiB - p.keeperPeakRssMiB) * 1024) / dn).toFixed(2)),
    };
  });

  const head = `${"agents".padStart(8)} ${"keeper epoch".padStart(13)} ${"claims".padStart(9)} ${"peak RSS".padStart(9)} ${"txs".padStart(5)} ${"gas".padStart(12)} | per agent: ${"keeper ms".padStart(9)} ${"gas".padStart(7)} ${"txs".padStart(8)} ${"RSS KiB".padStart(8)}`;
  console.log(`\none earnings epoch (every agent paid once; root posted; every leaf claimed)\n${head}`);
  for (const r of rows) {
    console.log(
      `${String(r.agents).padStart(8)} ${`${r.keeperEpochSeconds.toFixed(1)} s`.padStart(13)} ${`${r.claimSeconds.toFixed(1)} s`.padStart(9)} ${`${r.keeperPeakRssMiB} MiB`.padStart(9)} ${String(r.transactions).padStart(5)} ${String(r.gas).padStart(12)} |            ${String(r.perAgent.keeperMs).padStart(9)} ${String(r.perAgent.gas).padStart(7)} ${String(r.perAgent.transactions).padStart(8)} ${String(r.perAgent.rssKiB).padStart(8)}`,
    );
  }
  console.log("\ngrowth per added agent");
  for (const g of growth) {
    console.log(
      `  ${g.from} → ${g.to}: keeper ${g.keeperMsPerAddedAgent} ms, ${g.gasPerAddedAgent} gas, ${g.transactionsPerAddedAgent} transactions, ${g.rssKiBPerAddedAgent} KiB peak RSS`,
    );
  }
  const out = path.resolve(o.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ command: `npm run bench:scale -- --sizes ${o.sizes.join(",")}${o.fromFiles ? " --from-files" : ""}`, rows, growth }, null, 2)}\n`,
  );
  console.log(`\nwrote ${path.relative(REPO, out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
