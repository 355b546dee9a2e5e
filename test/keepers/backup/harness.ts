import { writeFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { type Hex, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { createAgentFolder } from "../../../keepers/backup/folder";
import { createKeystore } from "../../../keepers/backup/keystore";
import { BackupKeeper } from "../../../keepers/backup/service";
import { type Env, keeperSchema, openStore, sharedSchema } from "../../../keepers/shared";
import { AGENT_URI, deployIdentity } from "../../fixtures/identity";
import { texts } from "../../identity/helpers";
import { captureLogs } from "../shared/fixtures/captureLogs";

/*
 * The backup keeper under test: the identity part on Hardhat's in-process chain, served over JSON-RPC on loopback as
 * `hardhat node` serves it, agents with memory folders and keystores on a temp disk.
 */

const MNEMONIC = "test test test test test test test test test test test junk";
export const PASSWORD = "correct horse battery staple";
/** Hardhat accounts of the agents' signer keys (6, 7: the fixture's agent keys; then keys nobody else uses). */
const AGENT_ACCOUNTS = [6, 7, 10, 11, 12, 13];
export const RELAYER_ACCOUNT = 2;

export function devKey(index: number): Hex {
  const key = mnemonicToAccount(MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error("no key");
  return toHex(key);
}

/** The identity part with `n` chartered agents, each with resurrection consent granted. */
export async function chainWithAgents(n: number) {
  const f = await deployIdentity();
  const agents: { agentId: bigint; key: Hex; account: number }[] = [];
  for (let i = 0; i < n; i++) {
    const account = AGENT_ACCOUNTS[i]!;
    const agentKey = f.signers[account]!;
    const agentId = await f.registry.connect(f.operator)["register(string)"].staticCall(AGENT_URI);
    await f.registry.connect(f.operator)["register(string)"](AGENT_URI);
    await f.registry.connect(f.operator).offerCharter(agentId, agentKey.address);
    await f.registry.connect(agentKey).acceptCharter(agentId, texts(`agent ${i}`));
    await f.registry.connect(agentKey).grantResurrectionConsent(agentId);
    agents.push({ agentId, key: devKey(account), account });
  }
  return { ...f, agents, startBlock: await hre.ethers.provider.getBlockNumber() };
}

export async function serveChain(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider as never });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Memory folders with some content and a keystore (backup key + signer key) per agent. */
export async function prepareDisk(root: string, agents: { agentId: bigint; key: Hex }[]) {
  const memory = path.join(root, "memory");
  const keystores = path.join(root, "keystores");
  for (const a of agents) {
    const dir = await createAgentFolder(memory, a.agentId);
    writeFileSync(path.join(dir, "facts.json"), JSON.stringify([{ fact: `agent ${a.agentId} remembers` }]));
    writeFileSync(path.join(dir, "working_context.md"), `# agent ${a.agentId}\nwas reading a paper\n`);
    writeFileSync(path.join(dir, "memory_index", "chunk-0.bin"), Buffer.alloc(3000, Number(a.agentId) + 1));
    await createKeystore(path.join(keystores, `${a.agentId}.keystore.json`), a.agentId, PASSWORD, {
      N: 1024,
      signerKey: a.key,
    });
  }
  return { memory, keystores };
}

export function keeperEnv(o: {
  rpcUrl: string;
  chainId: number;
  registry: string;
  startBlock?: number;
  root: string;
  memory: string;
  keystores: string;
  extra?: Env;
}): Env {
  return {
    RPC_URLS: o.rpcUrl,
    CHAIN_ID: String(o.chainId),
    REGISTRY_ADDRESS: o.registry,
    START_BLOCK: String(o.startBlock ?? 0),
    MEMORY_DIR: o.memory,
    KEYSTORE_DIR: o.keystores,
    AGENT_KEYSTORE_PASSWORD: PASSWORD,
    RESTORE_ROOT: o.root,
    DATA_DIR: path.join(o.root, "data"),
    HTTP_PORT: "0",
    POLL_INTERVAL_MS: "3600000",
    CONFIRMATIONS: "0",
    LOG_LEVEL: "info",
    TX_WAIT_MS: "20000",
    KEEPER_PRIVATE_KEY: devKey(RELAYER_ACCOUNT),
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...o.extra,
  };
}

/** The keeper started for real; ticks are driven by the test with `step()`. */
export class SteppedBackupKeeper extends BackupKeeper {
  readonly logs: ReturnType<typeof captureLogs>;
  private readonly databaseUrl: string | undefined;

  constructor(env: Env, name: string) {
    const logs = captureLogs();
    super({ env, name, logDestination: logs.stream });
    this.logs = logs;
    this.databaseUrl = env.DATABASE_URL;
  }

  /** Stops, and on PostgreSQL drops the run's schemas (PGlite folders go with the temp dir). */
  async stopAndDrop(): Promise<void> {
    await this.stop();
    if (!this.databaseUrl) return;
    const store = await openStore({ databaseUrl: this.databaseUrl });
    try {
      for (const s of [keeperSchema(this.name), sharedSchema(this.name)]) {
        await store.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      }
    } finally {
      await store.close();
    }
  }

  async begin(): Promise<this> {
    await this.start();
    return this;
  }

  async step(): Promise<void> {
    await this.tick(new AbortController().signal);
  }

  get url(): string {
    return this.http.address()!.url;
  }

  async metricsText(): Promise<string> {
    return this.metrics.text();
  }
}

export async function postJson(
  url: string,
  body: unknown = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
