/**
 * Source verification of a deployment on the block explorer (hardhat-verify), so that its Read and Write pages work.
 * Each contract is verified on its own: one failure is reported and the others still run, and the deployment, which
 * is done by then, is never undone or failed by it. "Already verified" counts as verified, so a second run is cheap.
 */
import type { DeploymentRecord, VerificationStatus } from "./records";

/** What verifies one contract: hardhat-verify's `verify:verify` task in the deploy script, a stand-in in tests. */
export type VerifyFn = (args: { address: string; constructorArguments: unknown[]; contract?: string }) => Promise<void>;

export interface VerifyOptions {
  /** Etherscan API key; without one nothing is sent and the skip is logged. */
  apiKey: string | undefined;
  verify: VerifyFn;
  /** `contracts/…/Name.sol:Name` for an artifact name, so the explorer need not guess between equal bytecodes. */
  qualifiedName?: (contractName: string) => string | undefined;
  log?: (line: string) => void;
}

/** True for the explorer's (or hardhat-verify's) "already verified" answers. */
export function isAlreadyVerified(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /already verified|already been verified/i.test(message);
}

/**
 * Verifies every contract of the record that has constructor arguments recorded. Returns the status per contract
 * name, or undefined when no API key is set.
 */
export async function verifyDeployment(
  record: DeploymentRecord,
  opts: VerifyOptions,
): Promise<Record<string, VerificationStatus> | undefined> {
  const log = opts.log ?? console.log;
  if (!opts.apiKey) {
    log("verify: skipped, ETHERSCAN_API_KEY is not set (set it and run the deploy again to verify only)");
    return undefined;
  }
  const results: Record<string, VerificationStatus> = {};
  for (const [name, c] of Object.entries(record.contracts)) {
    if (c.constructorArgs === undefined) {
      results[name] = { error: "no constructor arguments recorded" };
      log(`verify: ${name} ${c.address} FAILED: no constructor arguments recorded`);
      continue;
    }
    const contract = c.contractName ? opts.qualifiedName?.(c.contractName) : undefined;
    try {
      await opts.verify({ address: c.address, constructorArguments: c.constructorArgs, contract });
      results[name] = "verified";
      log(`verify: ${name} ${c.address} verified`);
    } catch (err) {
      if (isAlreadyVerified(err)) {
        results[name] = "already verified";
        log(`verify: ${name} ${c.address} already verified`);
        continue;
      }
      const error = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "unknown error";
      results[name] = { error };
      log(`verify: ${name} ${c.address} FAILED: ${error}`);
    }
  }
  const failed = Object.values(results).filter((r) => typeof r === "object").length;
  log(
    failed === 0
      ? `verify: all ${Object.keys(results).length} contracts verified`
      : `verify: ${failed} of ${Object.keys(results).length} contracts not verified (the deployment stands; run the deploy again to retry)`,
  );
  return results;
}
