/** A step of the demo: what happened, the transaction behind it, and its gas. */
export interface StepResult {
  step: string;
  detail: string;
  tx?: string;
  gas?: bigint;
}

/** Thrown when the chain does not show what a step expected; the demo exits non-zero with it. */
export class DemoCheckError extends Error {
  override name = "DemoCheckError";
}

/** Checks a condition against the chain; a wrong result stops the demo with the reason. */
export function check(condition: unknown, reason: string): asserts condition {
  if (!condition) throw new DemoCheckError(reason);
}

/** Collects step results and prints them as a table. */
export class Report {
  readonly steps: StepResult[] = [];

  add(result: StepResult): void {
    this.steps.push(result);
    const gas = result.gas === undefined ? "" : ` gas ${result.gas}`;
    const tx = result.tx ? ` tx ${result.tx.slice(0, 18)}…` : "";
    console.log(`  ✓ ${result.step}: ${result.detail}${tx}${gas}`);
  }

  section(title: string): void {
    console.log(`\n${title}`);
  }

  summary(): void {
    const totalGas = this.steps.reduce((sum, s) => sum + (s.gas ?? 0n), 0n);
    console.log(`\n${this.steps.length} steps checked against the chain; ${totalGas} gas in all.`);
  }
}
