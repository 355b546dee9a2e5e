import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { main } from "../../cli/index";
import { toBytes32Text } from "../../sdk";
import { useHardhatNode } from "../helpers/hardhatNode";
import { makeTempDir } from "../helpers/tmp";
import {
  advance,
  asSafe,
  deployOnNode,
  KEYS,
  mint,
  type NodeSuite,
  newAgent,
  newSafe,
  ONE,
  policyCalls,
  ROLE,
} from "../keepers/spending/fixtures";

/** Runs `covenant …` in-process with stdout/stderr captured; returns the exit code and the output. */
async function covenant(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = { log: console.log, error: console.error, write: process.stderr.write.bind(process.stderr) };
  let out = "";
  let err = "";
  console.log = (...a: unknown[]) => {
    out += `${a.join(" ")}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(" ")}\n`;
  };
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(["node", "covenant", ...args]);
    return { code, out, err };
  } finally {
    console.log = log.log;
    console.error = log.error;
    process.stderr.write = log.write;
  }
}

describe("covenant spend (CLI against a hardhat node)", function () {
  this.timeout(120_000);
  // A chain id of its own: on a shared machine, a port race can never pass another test's node off as ours.
  const node = useHardhatNode({ chainId: 31_416 });
  let s: NodeSuite;
  let safe: string;
  let agentId: bigint;
  let global: string[];

  before(async () => {
    s = await deployOnNode(node().url, node().chainId);
    safe = await newSafe(s, "11");
    ({ agentId } = await newAgent(s, safe, ROLE.agent));
    await asSafe(s, safe, policyCalls(s, agentId));
    await mint(s.token, safe, 1_000n * ONE);
    const record = {
      chainId: node().chainId,
      network: "localhost",
      contracts: {
        AgentRegistry: { address: await s.registry.getAddress() },
        AgentGoals: { address: await s.registry.agentGoals() },
        CouncilFlags: { address: await s.registry.councilFlags() },
        SpendingLimitModule: { address: s.moduleAddress },
      },
      safeContracts: s.conn.contracts,
    };
    const file = path.join(makeTempDir("covenant-cli-"), `${node().chainId}.json`);
    writeFileSync(file, JSON.stringify(record));
    global = ["--rpc", node().url, "--deployment", file];
    process.env.TEST_AGENT_KEY = KEYS[ROLE.agent]!;
    process.env.TEST_RELAYER_KEY = KEYS[ROLE.recipient]!;
    process.env.TEST_OWNER_A = KEYS[ROLE.operator]!;
    process.env.TEST_OWNER_B = KEYS[ROLE.cosigner]!;
  });

  const run = (...args: string[]) => covenant(...global, "--key-env", "TEST_AGENT_KEY", ...args);

  it("policy: the caps and what is left today", async () => {
    const { code, out } = await run("spend", "policy", agentId.toString(), s.tokenAddress);
    expect(code).to.equal(0);
    const view = JSON.parse(out);
    expect(view.safe).to.equal(safe);
    expect([view.perTxCap, view.dailyCap, view.remainingToday]).to.deep.equal(["100.0", "250.0", "250.0"]);
  });

  it("send: the agent signs, a relayer sends; over the cap is refused with the module's error", async () => {
    const to = s.wallet(ROLE.attacker).address;
    const ok = await run(
      "spend",
      "send",
      agentId.toString(),
      to,
      "40",
      "--token",
      s.tokenAddress,
      "--relayer-key-env",
      "TEST_RELAYER_KEY",
    );
    expect(ok.code, ok.err).to.equal(0);
    expect(ok.err).to.include('"primaryType": "Spend"');
    expect(await s.token.balanceOf(to)).to.equal(40n * ONE);
    const over = await run(
      "spend",
      "send",
      agentId.toString(),
      to,
      "100.000000000000000001",
      "--token",
      s.tokenAddress,
    );
    expect(over.code).to.equal(1);
    expect(over.err).to.include(
      `SpendingLimitModuleOverPerTxCap(${agentId}, ${s.tokenAddress}, 100000000000000000001, 100000000000000000000)`,
    );
    const bad = await run("spend", "send", agentId.toString(), "not-an-address", "1");
    expect(bad.code).to.equal(2);
    expect(bad.err).to.include('recipient "not-an-address" is not an address');
  });

  it("request, queue, approve by two owners, execute after the delay", async () => {
    const to = s.wallet(ROLE.cold).address;
    const req = await run("spend", "request", agentId.toString(), to, "300", "--token", s.tokenAddress);
    expect(req.code, req.err).to.equal(0);
    let queue = await run("--json", "spend", "queue", "--agent", agentId.toString());
    let rows = JSON.parse(queue.out) as { queueId: string; state: string }[];
    expect(rows.map((r) => r.state)).to.deep.equal(["awaiting owners"]);
    const id = rows[0]!.queueId;

    // One owner signs elsewhere (--sign-only); the other adds that signature and submits.
    const first = await run("spend", "approve", id, "--owner-key-env", "TEST_OWNER_A", "--sign-only");
    expect(first.code, first.err).to.equal(0);
    const signature = first.out.trim();
    expect(signature).to.match(/^0x[0-9a-fA-F]{40}:0x[0-9a-fA-F]{130}$/);
    const tooFew = await run("spend", "approve", id, "--owner-key-env", "TEST_OWNER_A");
    expect(tooFew.code, tooFew.err).to.equal(1);
    expect(tooFew.err).to.include(`SpendingLimitModuleInvalidApproval(${id}, ${safe})`);
    const approve = await run("spend", "approve", id, "--owner-key-env", "TEST_OWNER_B", "--signature", signature);
    expect(approve.code, approve.err).to.equal(0);
    queue = await run("--json", "spend", "queue", "--agent", agentId.toString());
    rows = JSON.parse(queue.out);
    expect(rows[0]!.state).to.match(/^approved, executable in \d+ s$/);

    const early = await run("spend", "execute", id, "--sender-key-env", "TEST_RELAYER_KEY");
    expect(early.code).to.equal(1);
    expect(early.err).to.include("SpendingLimitModuleQueuedSpendTooEarly");
    await advance(s, 3601);
    const exec = await run("spend", "execute", id, "--sender-key-env", "TEST_RELAYER_KEY");
    expect(exec.code, exec.err).to.equal(0);
    expect(await s.token.balanceOf(to)).to.equal(300n * ONE);
    queue = await run("--json", "spend", "queue", "--agent", agentId.toString());
    expect(JSON.parse(queue.out)[0].state).to.equal("executed");
  });

  it("freeze by an owner key, unfreeze by the owners' Safe transaction", async () => {
    const freeze = await run("spend", "freeze", agentId.toString(), "--sender-key-env", "TEST_OWNER_B");
    expect(freeze.code, freeze.err).to.equal(0);
    expect((await s.module.agentState(agentId)).frozen).to.equal(true);
    const calldata = await run("spend", "unfreeze", agentId.toString(), "--calldata-only");
    expect(JSON.parse(calldata.out)).to.deep.equal({
      safe,
      to: s.moduleAddress,
      value: "0",
      data: s.module.interface.encodeFunctionData("unfreeze", [agentId]),
    });
    const unfreeze = await run(
      "spend",
      "unfreeze",
      agentId.toString(),
      "--owner-key-env",
      "TEST_OWNER_A",
      "--owner-key-env",
      "TEST_OWNER_B",
    );
    expect(unfreeze.code, unfreeze.err).to.equal(0);
    expect((await s.module.agentState(agentId)).frozen).to.equal(false);
  });

  it("setup-safe, then the owners' settings, then a sweep", async () => {
    const operator = s.wallet(ROLE.operator);
    const key = s.wallet(ROLE.agent + 1);
    const id = await s.registry.connect(operator)["register(string)"].staticCall("ipfs://cli-agent");
    await (await s.registry.connect(operator)["register(string)"]("ipfs://cli-agent")).wait();
    await (await s.registry.connect(operator).offerCharter(id, key.address)).wait();
    await (await s.registry.connect(key).acceptCharter(id, [toBytes32Text("Spend within limits")])).wait();
    process.env.TEST_OPERATOR_KEY = KEYS[ROLE.operator]!;
    const owners = [ROLE.operator, ROLE.cosigner, ROLE.cosigner2].map((r) => s.wallet(r).address).join(",");
    const owner = ["--owner-key-env", "TEST_OWNER_A", "--owner-key-env", "TEST_OWNER_B"];
    const setup = await run(
      "spend",
      "setup-safe",
      id.toString(),
      "--owners",
      owners,
      "--salt",
      "99",
      ...owner,
      "--operator-key-env",
      "TEST_OPERATOR_KEY",
    );
    expect(setup.code, setup.err).to.equal(0);
    const bound = (await s.module.agentState(id)).safe;
    expect(setup.out).to.include(`Safe ${bound} created`);
    const cold = s.wallet(ROLE.guardian).address;
    for (const args of [
      ["set-delay", id.toString(), "7200"],
      ["set-cold", id.toString(), cold],
      ["set-hot-threshold", id.toString(), "1", "--token", s.tokenAddress],
      ["allow-call", id.toString(), s.tokenAddress, "0x095ea7b3"],
    ]) {
      const r = await run("spend", ...args, ...owner);
      expect(r.code, r.err).to.equal(0);
    }
    const state = await s.module.agentState(id);
    expect([state.queueDelay, state.cold]).to.deep.equal([7200n, cold]);
    expect(await s.module.isCallAllowed(id, s.tokenAddress, "0x095ea7b3")).to.equal(true);
    await mint(s.token, bound, 5n * ONE);
    const sweep = await run("spend", "sweep", id.toString(), s.tokenAddress, "--sender-key-env", "TEST_RELAYER_KEY");
    expect(sweep.code, sweep.err).to.equal(0);
    expect(await s.token.balanceOf(cold)).to.equal(4n * ONE);
  });
});
