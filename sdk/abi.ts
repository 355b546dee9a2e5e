import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Abi } from "viem";

const ARTIFACTS = path.resolve(__dirname, "..", "artifacts", "contracts");
const cache = new Map<string, Abi>();

function find(dir: string, file: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found =
        entry.name === `${file}.sol` && existsSync(path.join(full, `${file}.json`))
          ? path.join(full, `${file}.json`)
          : find(full, file);
      if (found) return found;
    }
  }
  return undefined;
}

/** The ABI of a Covenant contract from the build's artifacts (`npm run build` writes them). */
export function loadAbi(contractName: string): Abi {
  const cached = cache.get(contractName);
  if (cached) return cached;
  if (!existsSync(ARTIFACTS)) throw new Error(`no build artifacts at ${ARTIFACTS}: run \`npm run build\` first`);
  const file = find(ARTIFACTS, contractName);
  if (!file) throw new Error(`no artifact for ${contractName} under ${ARTIFACTS}`);
  const abi = (JSON.parse(readFileSync(file, "utf8")) as { abi: Abi }).abi;
  cache.set(contractName, abi);
  return abi;
}
