import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import hre from "hardhat";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { type Hex, toHex } from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { packEntries } from "../../keepers/backup/archive";
import { createAgentFolder, readFolder } from "../../keepers/backup/folder";
import { createKeystore } from "../../keepers/backup/keystore";
import { BackupKeeper } from "../../keepers/backup/service";
import type { AgentRegistry } from "../../typechain-types";
import type { DemoAgent } from "./identity";
import { check, type Report } from "./report";

/*
 * Backup and resurrection in the demo, through the backup keeper running in this process against the demo's chain
 * (served over JSON-RPC as `hardhat node` serves it): an agent's memory is backed up at the end of its wake, its host
 * dies, it is resurrected into a new folder byte-identical; a second agent that revoked its consent is refused by the
 * keeper and by the registry.
 */

const PASSWORD = "demo keystore password";
const DEMO_MNEMONIC = "test test test test test test test test test test test junk";

function devKey(index: number): Hex {
  const key = mnemonicToAccount(DEMO_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error("no key");
  return toHex(key);
}

export interface BackupDemoOptions {
  registry: AgentRegistry;
  /** The agent brought back, and the one that revoked its consent. */
  agents: [DemoAgent, DemoAgent];
  /** Hardhat account indexes of their signer keys, kept in their keystores so the keeper can have them sign records. */
  agentKeyIndexes: [number, number];
}

class DemoKeeper extends BackupKeeper {
  url(): string {
    return this.http.address()!.url;
  }
}

async function call(
  url: string,
  method: "GET" | "POST",
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function backupDemo(report: Report, o: BackupDemoOptions): Promise<void> {
  report.section("Backup and resurrection");
  const { registry } = o;
  const [ada, brook] = o.agents;
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const registryAddress = await registry.getAddress();
  const dir = mkdtempSync(join(tmpdir(), "covenant-demo-backup-"));
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider as never });
  const { port } = await server.listen();
  // The keeper's own relay key (relayed records need no role), funded on this local chain.
  const relayKey = generatePrivateKey();
  await hre.network.provider.send("hardhat_setBalance", [privateKeyToAccount(relayKey).address, "0xDE0B6B3A7640000"]);
  let keeper: DemoKeeper | undefined;
  try {
    for (const [i, a] of o.agents.entries()) {
      if (!(await registry.resurrectionConsent(a.agentId))) {
        await (await registry.connect(a.key).grantResurrectionConsent(a.agentId)).wait();
      }
      const folder = await createAgentFolder(join(dir, "memory"), a.agentId);
      writeFileSync(join(folder, "facts.json"), JSON.stringify([{ fact: `${a.name} values ${a.values.join(", ")}` }]));
      writeFileSync(join(folder, "goals.json"), JSON.stringify([{ goal: "serve the user", done: false }]));
      writeFileSync(join(folder, "working_context.md"), `# ${a.name}\nmid-way through a task\n`);
      writeFileSync(join(folder, "memory_index", "embeddings.bin"), Buffer.alloc(4096, i + 1));
      await createKeystore(join(dir, "keystores", `${a.agentId}.keystore.json`), a.agentId, PASSWORD, {
        N: 2 ** 14,
        signerKey: devKey(o.agentKeyIndexes[i]!),
      });
    }
    keeper = new DemoKeeper({
      env: {
        RPC_URLS: `http://127.0.0.1:${port}`,
        CHAIN_ID: String(chainId),
        REGISTRY_ADDRESS: registryAddress,
        MEMORY_DIR: join(dir, "memory"),
        KEYSTORE_DIR: join(dir, "keystores"),
        AGENT_KEYSTORE_PASSWORD: PASSWORD,
        RESTORE_ROOT: dir,
        DATA_DIR: join(dir, "data"),
        HTTP_PORT: "0",
        CONFIRMATIONS: "0",
        POLL_INTERVAL_MS: "200",
        KEEPER_PRIVATE_KEY: relayKey,
        LOG_LEVEL: "silent",
      },
      logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    await keeper.start();
    const url = keeper.url();
    report.add({ step: "backup keeper started", detail: `direct anchoring, local CIDv1 store, ${url}` });

    // The end of each agent's wake: a backup, reported done only once its record is confirmed on chain.
    const snapshot = packEntries(await readFolder(join(dir, "memory", ada.agentId.toString())));
    for (const a of o.agents) {
      const asked = await call(`${url}/agents/${a.agentId}/wake-end`, "POST", {});
      check(asked.status === 202, `${a.name}: wake-end answered ${asked.status}`);
      let r: Record<string, unknown> = {};
      for (let i = 0; i < 300; i++) {
        r = (await call(`${url}/requests/${asked.json.requestId}`, "GET")).json;
        if (r.status === "done" || r.status === "failed") break;
        await new Promise((res) => setTimeout(res, 100));
      }
      check(r.status === "done", `${a.name}'s backup ended ${r.status}: ${r.error ?? ""}`);
      const b = r.backup as { sequence: number; cid: string; txHash: Hex };
      const [sequence] = await registry.latestBackup(a.agentId);
      check(sequence === BigInt(b.sequence), `${a.name}: the registry's latest backup is ${sequence}`);
      const receipt = await hre.ethers.provider.getTransactionReceipt(b.txHash);
      report.add({
        step: `${a.name}'s wake ends: backup ${b.sequence}`,
        detail: `encrypted, stored as ${b.cid.slice(0, 16)}…, signed by ${a.name}, relayed by the keeper`,
        tx: b.txHash,
        gas: receipt!.gasUsed,
      });
    }

    // Ada's host dies; she is resurrected into a new folder.
    rmSync(join(dir, "memory", ada.agentId.toString()), { recursive: true });
    const to = join(dir, "new-host", ada.name);
    const restored = await call(`${url}/agents/${ada.agentId}/restore`, "POST", { to });
    check(
      restored.status === 200,
      `${ada.name}'s restore answered ${restored.status}: ${JSON.stringify(restored.json)}`,
    );
    check(packEntries(await readFolder(to)).equals(snapshot), `${ada.name}'s restored memory differs from the backup`);
    const events = await registry.queryFilter(registry.filters.Restored(ada.agentId));
    check(
      events.length === 1 && events[0]!.args.by === ada.key.address,
      `${ada.name}: no Restored event by her signer`,
    );
    const restoredReceipt = await hre.ethers.provider.getTransactionReceipt(restored.json.restorationTx as string);
    report.add({
      step: `${ada.name}'s host dies; she is resurrected`,
      detail: `${restored.json.files} files byte-identical in a new folder; Restored event for her family`,
      tx: restored.json.restorationTx as string,
      gas: restoredReceipt!.gasUsed,
    });

    // Brook revokes its consent: never brought back, by the keeper or by anyone on chain.
    const revoke = await (await registry.connect(brook.key).revokeResurrectionConsent(brook.agentId)).wait();
    const brookTo = join(dir, "new-host", brook.name);
    const refused = await call(`${url}/agents/${brook.agentId}/restore`, "POST", { to: brookTo });
    const code = (refused.json.error as { code?: string } | undefined)?.code;
    check(
      refused.status === 403 && code === "no_consent",
      `${brook.name}'s restore was not refused: ${refused.status}`,
    );
    check(!existsSync(brookTo), `${brook.name}'s refused restore wrote a folder`);
    let chainRefused = "";
    try {
      await registry.connect(brook.key).recordRestoration.staticCall(brook.agentId, 1, `0x${"00".repeat(32)}`);
    } catch (err) {
      chainRefused = registry.interface.parseError((err as { data?: string }).data ?? "0x")?.name ?? "";
    }
    check(
      chainRefused === "AgentRegistryNoResurrectionConsent",
      `the registry did not refuse ${brook.name}'s restoration`,
    );
    report.add({
      step: `${brook.name} revokes its consent`,
      detail:
        "the keeper refuses (403 no_consent, nothing written); the registry reverts AgentRegistryNoResurrectionConsent",
      tx: revoke!.hash,
      gas: revoke!.gasUsed,
    });
  } finally {
    await keeper?.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
