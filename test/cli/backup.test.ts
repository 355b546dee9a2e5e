import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { main } from "../../cli/index";
import { packEntries } from "../../keepers/backup/archive";
import { readFolder } from "../../keepers/backup/folder";
import { watchFolder } from "../../keepers/backup/watch";
import { makeTempDir, uniqueName } from "../helpers/tmp";
import {
  chainWithAgents,
  keeperEnv,
  PASSWORD,
  prepareDisk,
  SteppedBackupKeeper,
  serveChain,
} from "../keepers/backup/harness";

/** Runs `covenant …` in-process with stdout/stderr captured. */
async function covenant(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = { log: console.log, error: console.error };
  let out = "";
  let err = "";
  console.log = (...a: unknown[]) => {
    out += `${a.join(" ")}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(" ")}\n`;
  };
  try {
    return { code: await main(["node", "covenant", ...args]), out, err };
  } finally {
    console.log = log.log;
    console.error = log.error;
  }
}

const twoAgents = () => chainWithAgents(2);

describe("covenant backup / restore / backup-key (CLI)", function () {
  this.timeout(180_000);
  let chain: Awaited<ReturnType<typeof serveChain>>;
  before(async () => {
    chain = await serveChain();
  });
  after(async () => {
    await chain.close();
  });

  async function setup() {
    const f = await loadFixture(twoAgents);
    const root = makeTempDir("covenant-cli-backup-");
    const file = path.join(root, `${f.deployment.chainId}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        chainId: f.deployment.chainId,
        network: "localhost",
        contracts: {
          AgentRegistry: { address: f.deployment.registry },
          AgentGoals: { address: f.deployment.goals },
          CouncilFlags: { address: f.deployment.flags },
        },
        fromBlock: 0,
      }),
    );
    const [a] = f.agents;
    process.env.TEST_BACKUP_AGENT_KEY = a!.key;
    process.env.COVENANT_AGENT_KEYSTORE_PASSWORD = PASSWORD;
    const dirs = [
      "--memory-dir",
      path.join(root, "memory"),
      "--agent-keystore",
      path.join(root, "keys", `${a!.agentId}.keystore.json`),
      "--store-dir",
      path.join(root, "blobs"),
    ];
    const run = (cmd: string, ...args: string[]) =>
      covenant("--rpc", chain.url, "--deployment", file, "--key-env", "TEST_BACKUP_AGENT_KEY", cmd, ...args);
    return { f, a: a!, root, dirs, run };
  }

  it("create a keystore, back up, rotate, back up, lose the host, restore the latest and an earlier one", async () => {
    const { f, a, root, dirs, run } = await setup();
    const id = a.agentId.toString();
    const created = await run("backup-key", "create", "--agent", id, ...dirs.slice(0, 4), "--with-signer");
    expect(created.code, created.err).to.equal(0);
    const keystore = path.join(root, "keys", `${id}.keystore.json`);
    const folder = path.join(root, "memory", id);
    expect(statSync(keystore).mode & 0o777).to.equal(0o600);
    expect(statSync(folder).mode & 0o777).to.equal(0o700);
    expect(readFileSync(keystore, "utf8")).not.to.include(a.key.slice(2));
    writeFileSync(path.join(folder, "facts.json"), '["the sky is blue"]');
    const first = packEntries(await readFolder(folder));

    const b1 = await run("backup", "--agent", id, ...dirs);
    expect(b1.code, b1.err).to.equal(0);
    const r1 = JSON.parse(b1.out);
    expect([r1.sequence, r1.keyVersion]).to.deep.equal([1, 1]);
    const rotated = await run("backup-key", "rotate", "--agent", id, ...dirs.slice(2, 4));
    expect(JSON.parse(rotated.out).keyVersion).to.equal(2);
    writeFileSync(path.join(folder, "working_context.md"), "thinking about clouds");
    const second = packEntries(await readFolder(folder));
    const b2 = JSON.parse((await run("backup", "--agent", id, ...dirs)).out);
    expect([b2.sequence, b2.keyVersion]).to.deep.equal([2, 2]);
    expect((await f.registry.latestBackup(a.agentId))[0]).to.equal(2n);

    rmSync(folder, { recursive: true });
    const to = path.join(root, "new-host");
    const restored = await run("restore", "--agent", id, "--to", to, ...dirs);
    expect(restored.code, restored.err).to.equal(0);
    expect(JSON.parse(restored.out).sequence).to.equal(2);
    expect(packEntries(await readFolder(to))).to.deep.equal(second);
    const [ev] = await f.registry.queryFilter(f.registry.filters.Restored(a.agentId));
    expect(ev!.transactionHash).to.equal(JSON.parse(restored.out).restorationTx);

    const earlier = path.join(root, "earlier");
    const r = await run("restore", "--agent", id, "--to", earlier, "--sequence", "1", ...dirs);
    expect(r.code, r.err).to.equal(0);
    expect(packEntries(await readFolder(earlier))).to.deep.equal(first);

    const full = await run("restore", "--agent", id, "--to", earlier, ...dirs);
    expect([full.code, full.err]).to.deep.equal([
      2,
      `error: TARGET_NOT_EMPTY: ${earlier} is not empty: a restore goes into an empty folder\n`,
    ]);
  });

  it("revoked consent: restore refused (exit 1, NO_CONSENT), nothing written; bad input exits 2", async () => {
    const { f, a, root, dirs, run } = await setup();
    const id = a.agentId.toString();
    expect((await run("backup-key", "create", "--agent", id, ...dirs.slice(0, 4))).code).to.equal(0);
    expect((await run("backup", "--agent", id, ...dirs)).code).to.equal(0);
    await f.registry.connect(f.signers[a.account]!).revokeResurrectionConsent(a.agentId);
    const to = path.join(root, "t");
    const refused = await run("restore", "--agent", id, "--to", to, ...dirs);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.include(`NO_CONSENT: agent ${id} has revoked its resurrection consent`);
    expect(existsSync(to)).to.equal(false);
    expect((await run("restore", "--agent", "x", "--to", to, ...dirs)).code).to.equal(2);
    const again = await run("backup-key", "create", "--agent", id, ...dirs.slice(0, 4));
    expect([again.code, again.err]).to.deep.equal([
      2,
      `error: KEYSTORE_INVALID: ${dirs[3]} exists: rotate its key instead of creating a new keystore\n`,
    ]);
    const saved = process.env.COVENANT_AGENT_KEYSTORE_PASSWORD;
    process.env.COVENANT_AGENT_KEYSTORE_PASSWORD = "wrong";
    try {
      const wrong = await run("backup", "--agent", id, ...dirs);
      expect(wrong.code).to.equal(2);
      expect(wrong.err).to.include("KEYSTORE_PASSWORD");
    } finally {
      process.env.COVENANT_AGENT_KEYSTORE_PASSWORD = saved;
    }
  });

  it("--keeper: the CLI asks the backup keeper and returns once the backup is anchored", async () => {
    const { f, root, run } = await setup();
    const b = f.agents[1]!;
    const disk = await prepareDisk(path.join(root, "keeper"), [b]);
    const env = keeperEnv({
      rpcUrl: chain.url,
      chainId: f.deployment.chainId,
      registry: f.deployment.registry,
      root: path.join(root, "keeper"),
      ...disk,
      extra: { POLL_INTERVAL_MS: "200", LOG_LEVEL: "warn" },
    });
    const keeper = await new SteppedBackupKeeper(env, uniqueName("backup")).begin();
    try {
      const out = await run("backup", "--agent", b.agentId.toString(), "--keeper", keeper.url);
      expect(out.code, out.err).to.equal(0);
      const r = JSON.parse(out.out);
      expect([r.status, r.backup.status, r.backup.sequence]).to.deep.equal(["done", "anchored", 1]);
      expect((await f.registry.latestBackup(b.agentId))[0]).to.equal(1n);
      const to = path.join(root, "keeper", "restored");
      const restored = await run("restore", "--agent", b.agentId.toString(), "--to", to, "--keeper", keeper.url);
      expect(restored.code, restored.err).to.equal(0);
      expect(packEntries(await readFolder(to))).to.deep.equal(
        packEntries(await readFolder(path.join(disk.memory, b.agentId.toString()))),
      );
    } finally {
      await keeper.stopAndDrop();
    }
  });

  it("watch mode: a burst of writes gives one backup after the debounce, a later write another", async () => {
    const dir = makeTempDir("covenant-watch-");
    mkdirSync(path.join(dir, "memory_index"));
    let calls = 0;
    const w = watchFolder(dir, 300, () => {
      calls++;
    });
    try {
      for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, "memory_index", `f${i}`), String(i));
      await new Promise((r) => setTimeout(r, 150));
      expect(calls).to.equal(0);
      await new Promise((r) => setTimeout(r, 600));
      expect(calls).to.equal(1);
      writeFileSync(path.join(dir, "facts.json"), "[]");
      await new Promise((r) => setTimeout(r, 700));
      expect(calls).to.equal(2);
    } finally {
      w.close();
    }
  });
});
