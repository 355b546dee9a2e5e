/**
 * Gas benchmark. Measures every operation with a target under fixed conditions on the in-process Hardhat network.
 *
 *   npm run bench:gas            measure and write gas-snapshot.json
 *   npm run check:gas            (GAS_CHECK=1) measure and fail when a figure is more than 1% above the snapshot
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { identityGas } from "./gas/identity";
import { spendingGas } from "./gas/spending";
import { treasuryGas } from "./gas/treasury";
import type { GasMeasurement, GasScenario } from "./gas/types";

const SNAPSHOT = "gas-snapshot.json";
const TOLERANCE = 0.01;
const scenarios: GasScenario[] = [identityGas, treasuryGas, spendingGas];

type Snapshot = Record<string, { gas: number; target?: number; reference?: string; conditions: string }>;

async function main() {
  const check = process.env.GAS_CHECK === "1";
  const measured: GasMeasurement[] = [];
  for (const scenario of scenarios) measured.push(...(await scenario()));

  const previous: Snapshot = existsSync(SNAPSHOT) ? JSON.parse(readFileSync(SNAPSHOT, "utf8")) : {};
  const rows: string[] = [];
  const regressions: string[] = [];
  for (const m of measured) {
    const before = previous[m.name]?.gas;
    const delta = before === undefined ? "new" : `${m.gas - before >= 0 ? "+" : ""}${m.gas - before}`;
    const verdict = m.target === undefined ? "" : m.gas <= m.target ? "meets target" : "OVER TARGET";
    rows.push(
      `${m.name.padEnd(52)} ${String(m.gas).padStart(9)} ${String(m.target ?? "").padStart(9)} ${delta.padStart(8)}  ${verdict}`,
    );
    if (before !== undefined && m.gas > before * (1 + TOLERANCE)) {
      regressions.push(`${m.name}: ${m.gas} is more than 1% above the snapshot's ${before}`);
    }
  }
  console.log(`${"operation".padEnd(52)} ${"gas".padStart(9)} ${"target".padStart(9)} ${"vs snap".padStart(8)}`);
  for (const row of rows) console.log(row);

  if (check) {
    const missing = Object.keys(previous).filter((name) => !measured.some((m) => m.name === name));
    for (const name of missing) regressions.push(`${name}: in the snapshot but no longer measured`);
    if (regressions.length > 0) {
      console.error(`\ngas check failed:\n  ${regressions.join("\n  ")}`);
      console.error("If the change is intended, run `npm run bench:gas` and commit gas-snapshot.json with the reason.");
      process.exit(1);
    }
    console.log(`\ngas check passed: ${measured.length} figures within 1% of ${SNAPSHOT}`);
    return;
  }
  const snapshot: Snapshot = {};
  for (const m of measured) {
    snapshot[m.name] = { gas: m.gas, target: m.target, reference: m.reference, conditions: m.conditions };
  }
  writeFileSync(SNAPSHOT, `${JSON.stringify(snapshot, null, 2)}\n`);
  console.log(`\nwrote ${SNAPSHOT} (${measured.length} figures)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
