import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { packEntries } from "../../../keepers/backup/archive";
import { readFolder } from "../../../keepers/backup/folder";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import { chainWithAgents, getJson, keeperEnv, postJson, prepareDisk, SteppedBackupKeeper, serveChain } from "./harness";

/*
 * The keeper as a service: wake-end over HTTP, anchoring (direct and batched), done only once confirmed, the restore
 * job, consent, metrics.
 */

const threeAgents = () => chainWithAgents(3);

describe("backup keeper: service", function () {
  this.timeout(180_000);
  let chain: Awaited<ReturnType<typeof serveChain>>;
  const keepers: SteppedBackupKeeper[] = [];

  before(async () => {
    chain = await serveChain();
  });
  afterEach(async () => {
    for (const k of keepers.splice(0)) await k.stopAndDrop();
  });
  after(async () => {
    await chain.close();
  });

  async function start(mode: "direct" | "batch", extra: Record<string, string> = {}) {
    const f = await loadFixture(threeAgents);
    const root = makeTempDir("covenant-bk-svc-");
    const disk = await prepareDisk(root, f.agents);
    const env = keeperEnv({
      rpcUrl: chain.url,
      chainId: f.deployment.chainId,
      registry: f.deployment.registry,
      startBlock: 0,
      root,
      ...disk,
      extra: { ANCHOR_MODE: mode, ...extra },
    });
    const keeper = await new SteppedBackupKeeper(env, uniqueName("backup")).begin();
    keepers.push(keeper);
    return { f, root, disk, keeper };
  }

  it("wake-end → sealed, relayed, done once confirmed; the agent is resurrected byte-identical with a Restored event", async () => {
    const { f, root, disk, keeper } = await start("direct");
    const [a, b] = f.agents;
    const snapshot = packEntries(await readFolder(path.join(disk.memory, a!.agentId.toString())));
    const asked = await postJson(`${keeper.url}/agents/${a!.agentId}/wake-end`);
    expect(asked.status).to.equal(202);
    expect(asked.body.merged).to.equal(false);
    const again = await postJson(`${keeper.url}/agents/${a!.agentId}/wake-end`);
    expect(again.body).to.deep.equal({ requestId: asked.body.requestId, merged: true });
    await postJson(`${keeper.url}/agents/${b!.agentId}/wake-end`);
    expect((await getJson(`${keeper.url}/requests/${asked.body.requestId}`)).body.status).to.equal("pending");

    await keeper.step();
    const done = (await getJson(`${keeper.url}/requests/${asked.body.requestId}`)).body as {
      status: string;
      backup: { sequence: number; status: string; txHash: string; cid: string };
    };
    expect([done.status, done.backup.status, done.backup.sequence]).to.deep.equal(["done", "anchored", 1]);
    const events = await f.registry.queryFilter(f.registry.filters.BackupRecorded(a!.agentId));
    expect(events.map((e) => [e.args.sequence, e.transactionHash])).to.deep.equal([[1n, done.backup.txHash]]);
    expect((await f.registry.latestBackup(b!.agentId))[0]).to.equal(1n);

    // The host dies; the agent comes back on another folder.
    rmSync(path.join(disk.memory, a!.agentId.toString()), { recursive: true });
    const to = path.join(root, "new-host", a!.agentId.toString());
    const restored = await postJson(`${keeper.url}/agents/${a!.agentId}/restore`, { to });
    expect(restored.status).to.equal(200);
    expect([restored.body.sequence, restored.body.source, restored.body.files]).to.deep.equal([1, "direct", 6]);
    expect(packEntries(await readFolder(to))).to.deep.equal(snapshot);
    const [ev] = await f.registry.queryFilter(f.registry.filters.Restored(a!.agentId));
    expect(ev!.transactionHash).to.equal(restored.body.restorationTx);
    expect([ev!.args.sequence, ev!.args.by]).to.deep.equal([1n, f.signers[a!.account]!.address]);

    const metrics = await keeper.metricsText();
    expect(metrics).to.match(/covenant_backup_\w+_backups_total\{outcome="anchored",keeper="[^"]+"\} 2/);
    expect(metrics).to.match(/covenant_backup_\w+_restores_total\{outcome="restored",keeper="[^"]+"\} 1/);
    expect(metrics).to.match(/covenant_backup_\w+_anchoring_lag_seconds_count\{keeper="[^"]+"\} 2/);
    expect(metrics).to.match(/covenant_backup_\w+_backup_bytes_total\{kind="envelope",keeper="[^"]+"\} \d+/);
  });

  it("the next wake takes the next sequence; restore takes the latest, or the one asked for", async () => {
    const { f, root, disk, keeper } = await start("direct");
    const a = f.agents[0]!;
    const folder = path.join(disk.memory, a.agentId.toString());
    const first = packEntries(await readFolder(folder));
    await keeper.requestBackup(a.agentId, "test");
    await keeper.step();
    writeFileSync(path.join(folder, "goals.json"), '["write the paper"]');
    const second = packEntries(await readFolder(folder));
    await keeper.requestBackup(a.agentId, "test");
    await keeper.step();
    expect((await f.registry.latestBackup(a.agentId))[0]).to.equal(2n);
    const latest = path.join(root, "latest");
    expect((await postJson(`${keeper.url}/agents/${a.agentId}/restore`, { to: latest })).body.sequence).to.equal(2);
    expect(packEntries(await readFolder(latest))).to.deep.equal(second);
    const earlier = path.join(root, "earlier");
    const r = await postJson(`${keeper.url}/agents/${a.agentId}/restore`, { to: earlier, sequence: 1 });
    expect(r.body.sequence).to.equal(1);
    expect(packEntries(await readFolder(earlier))).to.deep.equal(first);
  });

  it("batch: three agents' records under one anchorBackups; each restores from its leaf", async () => {
    const { f, root, keeper } = await start("batch", { BATCH_MIN_LEAVES: "3", BATCH_MAX_WAIT_MS: "3600000" });
    const before = await f.registry.anchorCount();
    for (const a of f.agents.slice(0, 2)) await keeper.requestBackup(a.agentId, "test");
    await keeper.step();
    expect(await f.registry.anchorCount(), "two records wait for a third").to.equal(before);
    await keeper.requestBackup(f.agents[2]!.agentId, "test");
    await keeper.step();
    expect(await f.registry.anchorCount()).to.equal(before + 1n);
    const list = (await getJson(`${keeper.url}/agents/${f.agents[1]!.agentId}/backups`)).body.backups as {
      status: string;
      anchorIndex: string;
      proof: string[];
    }[];
    expect(list.map((x) => [x.status, x.anchorIndex])).to.deep.equal([["anchored", before.toString()]]);
    expect(list[0]!.proof.length).to.be.greaterThan(0);
    const to = path.join(root, "restored");
    const r = await postJson(`${keeper.url}/agents/${f.agents[1]!.agentId}/restore`, { to });
    expect([r.status, r.body.source]).to.deep.equal([200, "anchor"]);
  });

  it("restore refusals: revoked consent (403, nothing written), outside RESTORE_ROOT, bad ids", async () => {
    const { f, root, keeper } = await start("direct");
    const a = f.agents[0]!;
    await keeper.requestBackup(a.agentId, "test");
    await keeper.step();
    await f.registry.connect(f.signers[a.account]!).revokeResurrectionConsent(a.agentId);
    const to = path.join(root, "nope");
    const refused = await postJson(`${keeper.url}/agents/${a.agentId}/restore`, { to });
    expect(refused.status).to.equal(403);
    expect((refused.body.error as { code: string }).code).to.equal("no_consent");
    expect(existsSync(to)).to.equal(false);
    expect(await f.registry.queryFilter(f.registry.filters.Restored(a.agentId))).to.deep.equal([]);
    const outside = await postJson(`${keeper.url}/agents/${f.agents[1]!.agentId}/restore`, { to: "/tmp/elsewhere" });
    expect(outside.status).to.equal(422);
    expect((await postJson(`${keeper.url}/agents/x1/wake-end`)).status).to.equal(400);
    expect((await postJson(`${keeper.url}/agents/1/restore`, { sequence: 0 })).status).to.equal(400);
    expect((await getJson(`${keeper.url}/requests/99999`)).status).to.equal(404);
    expect(await keeper.metricsText()).to.match(/restores_total\{outcome="no_consent",keeper="[^"]+"\} 1/);
  });

  it("an agent without a keystore: the request fails with the reason, other agents are not held up", async () => {
    const { f, disk, keeper } = await start("direct");
    rmSync(path.join(disk.keystores, `${f.agents[0]!.agentId}.keystore.json`));
    const bad = await keeper.requestBackup(f.agents[0]!.agentId, "test");
    const good = await keeper.requestBackup(f.agents[1]!.agentId, "test");
    await keeper.step();
    const b = (await getJson(`${keeper.url}/requests/${bad.id}`)).body;
    expect(b.status).to.equal("failed");
    expect(b.error).to.match(/cannot read the agent keystore/);
    expect((await getJson(`${keeper.url}/requests/${good.id}`)).body.status).to.equal("done");
  });
});
