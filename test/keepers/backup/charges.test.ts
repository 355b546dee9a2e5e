import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { recordHash } from "../../../keepers/backup/record";
import { deployTreasury, ETH } from "../../fixtures/treasury";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import { devKey, getJson, keeperEnv, prepareDisk, SteppedBackupKeeper, serveChain } from "./harness";

/*
 * The agent's infrastructure budget pays for its backups: each anchored backup is charged once (ref = its record
 * hash) through Treasury.chargeServices; an agent whose budget cannot pay is left unpaid, its backup anchored.
 */

const PRICE = 10n ** 14n;
const BACKUP = keccak256(toUtf8Bytes("covenant.service.backup"));

async function treasuryReady() {
  const f = await deployTreasury();
  const keeperAddress = f.relayer.address; // the harness's keeper key is Hardhat account 2, the fixture's relayer
  await f.treasury.connect(f.deployer).setServiceCap(BACKUP, ETH, PRICE * 10n);
  await f.treasury.connect(f.deployer).grantRole(BACKUP, keeperAddress);
  await f.treasury.connect(f.deployer).fundBudget(f.agentId, ETH, PRICE, { value: PRICE });
  return f;
}

describe("backup keeper: charges to the infrastructure budget", function () {
  this.timeout(180_000);
  let chain: Awaited<ReturnType<typeof serveChain>>;
  before(async () => {
    chain = await serveChain();
  });
  after(async () => {
    await chain.close();
  });

  it("charges each anchored backup once; an agent without budget is unpaid, its backup anchored all the same", async () => {
    const f = await loadFixture(treasuryReady);
    const agents = [
      { agentId: f.agentId, key: devKey(6) },
      { agentId: f.agentId2, key: devKey(7) },
    ];
    const root = makeTempDir("covenant-bk-charge-");
    const disk = await prepareDisk(root, agents);
    const env = keeperEnv({
      rpcUrl: chain.url,
      chainId: f.deployment.chainId,
      registry: f.deployment.registry,
      root,
      ...disk,
      extra: { TREASURY_ADDRESS: f.deployment.treasury, BACKUP_PRICE: PRICE.toString() },
    });
    const keeper = await new SteppedBackupKeeper(env, uniqueName("backup")).begin();
    try {
      for (const a of agents) await keeper.requestBackup(a.agentId, "test");
      await keeper.step();
      const [paid] = (await getJson(`${keeper.url}/agents/${f.agentId}/backups`)).body.backups as {
        status: string;
        charge: string;
        sequence: number;
        ciphertextHash: `0x${string}`;
        cid: string;
        deadline: string;
      }[];
      const [unpaid] = (await getJson(`${keeper.url}/agents/${f.agentId2}/backups`)).body.backups as {
        status: string;
        charge: string;
      }[];
      expect([paid!.status, paid!.charge]).to.deep.equal(["anchored", "charged"]);
      expect([unpaid!.status, unpaid!.charge]).to.deep.equal(["anchored", "unpaid"]);
      expect(await f.treasury.budgetOf(f.agentId, ETH)).to.equal(0n);
      const events = await f.treasury.queryFilter(f.treasury.filters.ServiceCharged());
      expect(events).to.have.length(1);
      const ref = recordHash({ ...paid!, agentId: f.agentId, deadline: BigInt(paid!.deadline) });
      expect([
        events[0]!.args.agentId,
        events[0]!.args.keeper,
        events[0]!.args.amount,
        events[0]!.args.ref,
      ]).to.deep.equal([f.agentId, f.relayer.address, PRICE, ref]);
      expect(await f.treasury.isCharged(f.agentId, BACKUP, ref)).to.equal(true);
      await keeper.step();
      expect(await f.treasury.queryFilter(f.treasury.filters.ServiceCharged())).to.have.length(1);
      const metrics = await keeper.metricsText();
      expect(metrics).to.match(/budget_charges_total\{outcome="charged",keeper="[^"]+"\} 1/);
      expect(metrics).to.match(/budget_charges_total\{outcome="unpaid",keeper="[^"]+"\} 1/);
    } finally {
      await keeper.stopAndDrop();
    }
  });
});
