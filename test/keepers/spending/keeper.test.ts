import { expect } from "chai";
import { Interface } from "ethers";
import { sharedSchema } from "../../../keepers/shared/store";
import { SpendingKeeper } from "../../../keepers/spending/keeper";
import { approveSpendTypedData, ETH, toQueuedSpendView } from "../../../sdk";
import { signSafeMessage } from "../../../sdk/safe";
import { useHardhatNode } from "../../helpers/hardhatNode";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import {
  advance,
  asSafe,
  deployOnNode,
  eventually,
  KEYS,
  mint,
  type NodeSuite,
  newAgent,
  newSafe,
  ONE,
  ownerKeys,
  policyCalls,
  ROLE,
} from "./fixtures";

const ANOMALY_TOKEN = "executor-secret-token";

/**
 * The spending keeper against a real `hardhat node`: it sweeps, executes approved queued spends, and freezes through
 * the sentinel key on the executor's reports and on transfers out of a Safe the module did not make. One keeper
 * runs for the whole describe; each scenario has its own agents (and Safe where the scenario freezes a whole Safe).
 */
describe("keepers/spending: the keeper on a hardhat node", function () {
  this.timeout(120_000);
  // Registered before the node's hook, so that it runs first: the keeper stops before its chain does.
  after(async () => stopKeeper());
  // A chain id of its own: on a shared machine, a port race can never pass another test's node off as ours.
  const node = useHardhatNode({ chainId: 31_415 });
  let s: NodeSuite;
  let safe: `0x${string}`;
  let keeper: SpendingKeeper | undefined;
  let env: Record<string, string>;
  let baseUrl: string;
  const name = uniqueName("spending").toLowerCase();

  async function startKeeper() {
    keeper = new SpendingKeeper(env, { name });
    await keeper.start();
    const address = (keeper as unknown as { http: { address(): { url: string } } }).http.address();
    baseUrl = address.url;
  }

  async function stopKeeper() {
    const k = keeper;
    keeper = undefined;
    if (k) expect(await k.stop()).to.equal(0);
  }

  before(async () => {
    s = await deployOnNode(node().url, node().chainId);
    safe = await newSafe(s, "1");
    env = {
      RPC_URLS: node().url,
      CHAIN_ID: String(node().chainId),
      HTTP_PORT: "0",
      POLL_INTERVAL_MS: "100",
      CONFIRMATIONS: "0",
      LOG_LEVEL: "error",
      KEEPER_PRIVATE_KEY: KEYS[ROLE.sentinel]!,
      SPENDING_MODULE_ADDRESS: s.moduleAddress,
      START_BLOCK: String(s.startBlock),
      WATCH_TOKENS: s.tokenAddress,
      ANOMALY_TOKEN,
      REFUSED_BURST_COUNT: "3",
      DATA_DIR: makeTempDir("covenant-spending-keeper-"),
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    };
    await startKeeper();
  });

  after(async () => {
    if (process.env.DATABASE_URL) {
      const { openStore } = await import("../../../keepers/shared/store");
      const store = await openStore({ databaseUrl: process.env.DATABASE_URL });
      await store.exec(
        `DROP SCHEMA IF EXISTS "${name}" CASCADE; DROP SCHEMA IF EXISTS "${sharedSchema(name)}" CASCADE;`,
      );
      await store.close();
    }
  });

  const frozen = async (agentId: bigint) => (await s.module.agentState(agentId)).frozen;
  const frozenBy = async (agentId: bigint) => {
    const logs = await s.module.queryFilter(s.module.filters.AgentFrozen(agentId), s.startBlock);
    return logs.map((l) => l.args.by);
  };
  const report = (body: unknown, token = ANOMALY_TOKEN) =>
    fetch(`${baseUrl}/anomalies`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  it("sweeps a Safe above its hot thresholds, once, and again after a restart only when it is above again", async () => {
    const { agentId } = await newAgent(s, safe, ROLE.agent);
    const m = s.module.interface;
    await asSafe(s, safe, [
      ...policyCalls(s, agentId),
      m.encodeFunctionData("setColdAddress", [agentId, s.wallet(ROLE.cold).address]),
      m.encodeFunctionData("setHotThreshold", [agentId, ETH, 2n * ONE, true]),
      m.encodeFunctionData("setHotThreshold", [agentId, s.tokenAddress, 1_000n * ONE, true]),
    ]);
    const cold = s.wallet(ROLE.cold).address;
    const coldEthBefore = await s.provider.getBalance(cold);
    await (await s.deployer.sendTransaction({ to: safe, value: 5n * ONE })).wait();
    await mint(s.token, safe, 4_000n * ONE);
    await eventually(
      "both sweeps",
      async () => (await s.token.balanceOf(safe)) === 1_000n * ONE && (await s.provider.getBalance(safe)) === 2n * ONE,
    );
    expect(await s.token.balanceOf(cold)).to.equal(3_000n * ONE);
    expect((await s.provider.getBalance(cold)) - coldEthBefore).to.equal(3n * ONE);
    const swept = async () => (await s.module.queryFilter(s.module.filters.Swept(agentId), s.startBlock)).length;
    expect(await swept()).to.equal(2);

    // A restart resumes from the store: nothing is swept twice; a new excess is swept once.
    await stopKeeper();
    await startKeeper();
    await new Promise((r) => setTimeout(r, 800));
    expect(await swept()).to.equal(2);
    await mint(s.token, safe, 500n * ONE);
    await eventually("the next sweep", async () => (await s.token.balanceOf(safe)) === 1_000n * ONE);
    await new Promise((r) => setTimeout(r, 500));
    expect(await swept()).to.equal(3);
  });

  it("the executor's report of an unknown target freezes the agent through the sentinel key", async () => {
    const { agentId } = await newAgent(s, safe, ROLE.agent + 1);
    expect((await report({ agentId: agentId.toString(), signal: "unknown_target" }, "wrong")).status).to.equal(401);
    const bad = await report({ agentId: "x", signal: "nonsense" });
    expect(bad.status).to.equal(400);
    const ok = await report({
      agentId: agentId.toString(),
      signal: "unknown_target",
      detail: { target: "0xdead" },
      key: "r-1",
    });
    expect(ok.status).to.equal(202);
    const again = (await (
      await report({ agentId: agentId.toString(), signal: "unknown_target", key: "r-1" })
    ).json()) as {
      duplicate: boolean;
    };
    expect(again.duplicate).to.equal(true);
    await eventually("the freeze", () => frozen(agentId));
    expect(await frozenBy(agentId)).to.deep.equal([s.wallet(ROLE.sentinel).address]);
  });

  it("refused spends freeze only as a burst", async () => {
    const { agentId } = await newAgent(s, safe, ROLE.agent + 2);
    for (let i = 0; i < 2; i++) await report({ agentId: agentId.toString(), signal: "refused_spend", key: `b-${i}` });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await frozen(agentId)).to.equal(false);
    await report({ agentId: agentId.toString(), signal: "refused_spend", key: "b-2" });
    await eventually("the burst freeze", () => frozen(agentId));
    expect(await frozenBy(agentId)).to.deep.equal([s.wallet(ROLE.sentinel).address]);
  });

  it("a transfer out of the Safe that neither the module nor the owners made freezes its agents", async () => {
    const ownSafe = await newSafe(s, "2");
    const { agentId, key } = await newAgent(s, ownSafe, ROLE.agent + 3);
    const erc20 = new Interface(["function approve(address spender, uint256 amount) returns (bool)"]);
    const approve = erc20.getFunction("approve")!.selector;
    await asSafe(s, ownSafe, [
      ...policyCalls(s, agentId),
      s.module.interface.encodeFunctionData("setCallPermission", [agentId, s.tokenAddress, approve, true]),
    ]);
    await mint(s.token, ownSafe, 1_000n * ONE);
    // Outflows the keeper must accept: the agent's own spend, and the owners' Safe transaction.
    await (
      await s.module.connect(key).spend(agentId, s.tokenAddress, s.wallet(ROLE.recipient).address, 10n * ONE)
    ).wait();
    const { execSafeTransaction } = await import("../../../sdk/safe");
    const transfer = new Interface(["function transfer(address,uint256)"]).encodeFunctionData("transfer", [
      s.wallet(ROLE.recipient).address,
      5n * ONE,
    ]);
    await execSafeTransaction(s.conn, ownSafe, ownerKeys(), [{ to: s.tokenAddress, data: transfer as `0x${string}` }]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await frozen(agentId)).to.equal(false);
    // The agent approves a spender through an allowed call; the spender pulls the tokens out later.
    const attacker = s.wallet(ROLE.attacker);
    const data = erc20.encodeFunctionData("approve", [attacker.address, 500n * ONE]);
    await (await s.module.connect(key).spendCall(agentId, s.tokenAddress, 0n, data)).wait();
    await (await s.token.connect(attacker).transferFrom(ownSafe, attacker.address, 400n * ONE)).wait();
    await eventually("the outflow freeze", () => frozen(agentId));
    expect(await frozenBy(agentId)).to.deep.equal([s.wallet(ROLE.sentinel).address]);
    const anomalies = (await (await fetch(`${baseUrl}/anomalies`)).json()) as {
      anomalies: { agent_id: string; signal: string; source: string }[];
    };
    expect(
      anomalies.anomalies.some(
        (a) => a.agent_id === agentId.toString() && a.signal === "unexplained_outflow" && a.source === "chain",
      ),
    ).to.equal(true);
  });

  it("executes an approved queued spend once its delay has passed, and shows the queue", async () => {
    const { agentId, key } = await newAgent(s, safe, ROLE.agent + 4);
    await asSafe(s, safe, policyCalls(s, agentId));
    await mint(s.token, safe, 500n * ONE);
    const recipient = s.wallet(ROLE.recipient).address;
    const queueId = await s.module.queueLength();
    await (
      await s.module.connect(key).queueSpend(agentId, s.tokenAddress, recipient, 300n * ONE, "0x", 60_000n)
    ).wait();
    const view = toQueuedSpendView(await s.module.queuedSpend(queueId));
    const signatures = await signSafeMessage(
      s.conn,
      safe,
      ownerKeys(),
      approveSpendTypedData(node().chainId, s.moduleAddress, queueId, view) as never,
    );
    await (await s.module.approveQueuedSpendBySig(queueId, signatures)).wait();
    const before = await s.token.balanceOf(recipient);
    await new Promise((r) => setTimeout(r, 600));
    expect(await s.token.balanceOf(recipient)).to.equal(before); // still in its delay
    await advance(s, 3601);
    await eventually("the queued spend's execution", async () => (await s.module.queuedSpend(queueId)).status === 3n);
    expect((await s.token.balanceOf(recipient)) - before).to.equal(300n * ONE);
    await eventually("the queue view", async () => {
      const body = (await (await fetch(`${baseUrl}/queue`)).json()) as { queue: { queueId: string; status: string }[] };
      return body.queue.some((x) => x.queueId === queueId.toString() && x.status === "Executed");
    });
  });

  it("serves /healthz and its metrics", async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).to.equal(200);
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    const prefix = `covenant_${name}_`;
    expect(metrics).to.contain(`${prefix}intents_total{kind="freeze",outcome=`);
    expect(metrics).to.contain(`${prefix}intents_total{kind="sweep",outcome=`);
    expect(metrics).to.contain(`${prefix}anomalies_total{signal="unexplained_outflow",source="chain"`);
  });

  it("a second instance on the same database stands by, and takes over when the first stops", async () => {
    const second = new SpendingKeeper(env, { name });
    await second.start();
    try {
      const url = (second as unknown as { http: { address(): { url: string } } }).http.address().url;
      const leader = async (u: string) => {
        const text = await (await fetch(`${u}/metrics`)).text();
        return /_leader\{[^}]*\} (\d)/.exec(text)?.[1];
      };
      await eventually("the second instance's first tick", async () => (await leader(url)) !== undefined);
      expect(await leader(url)).to.equal("0");
      expect(await leader(baseUrl)).to.equal("1");
      await stopKeeper();
      await eventually("the take-over", async () => (await leader(url)) === "1");
    } finally {
      expect(await second.stop()).to.equal(0);
    }
    await startKeeper();
  });
});
