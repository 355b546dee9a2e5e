import { rmSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  Contract,
  HDNodeWallet,
  id,
  JsonRpcProvider,
  JsonRpcSigner,
  Mnemonic,
  parseEther,
  Wallet,
  ZeroAddress,
  ZeroHash,
} from "ethers";
import { privateKeyToAccount } from "viem/accounts";
import { type Finding, runDeploymentChecks } from "../../deploy/checks";
import { type DeploymentParameters, loadParameters } from "../../deploy/parameters";
import { addressOf, type DeploymentRecord, readDeployment } from "../../deploy/records";
import { createSafe, type SafeConnection } from "../../deploy/safe";
import { ExecutorClient } from "../../keepers/tx-executor/client";
import {
  buildAction,
  buildSpend,
  ETH,
  fromViemAccount,
  relayCall,
  SpendNonces,
  signAction,
  toBytes32Text,
} from "../../sdk";
import { enableModuleCall, execSafeTransaction } from "../../sdk/safe";
import { AgentRegistry__factory, RevenueRouter__factory, SpendingLimitModule__factory } from "../../typechain-types";
import { freePort, type HardhatNode, rpc, startHardhatNode } from "../helpers/hardhatNode";
import { makeTempDir } from "../helpers/tmp";
import { KeeperProcess, REPO, runCommand, stopAll } from "./processes";

/*
 * The deployment rehearsal, as an operator runs it on a testnet: a `hardhat node` child process, the real
 * `npm run deploy -- --network localhost` (Safes with protocol-kit, the suite through Ignition, roles handed to the
 * timelock and the Safes), `npm run check:deployment`, then the four keepers as processes against that deployment for
 * one short lifecycle (a charter relayed and a spend through the tx-executor's HTTP API, a payment whose epoch root the
 * earnings keeper posts), each stopped by SIGTERM. Last, each class of leftover privilege or wrong parameter is made on
 * purpose and the check must name it. Every process is stopped by its PID, even when a step fails.
 */

const CHAIN_ID = 31337;
const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
/** Hardhat's default account #i (the node's funded accounts; deploy/parameters/localhost.json names their roles). */
const account = (i: number) => HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`);

const KEYS = {
  deployer: account(0),
  operator: account(3),
  cosigner: account(4),
  earningsPoster: account(10),
  sentinel: account(13),
  // The relayer keeper key of deploy/parameters/localhost.json: it holds the Treasury's RELAYED_GAS_SERVICE.
  executorRelayer: account(2),
  simulator: account(17),
  payer: account(19),
};
const EXECUTOR_TOKEN = "rehearsal-relayer-token-0123456789";
const ANOMALY_TOKEN = "rehearsal-anomaly-token-0123456789";
const EARNINGS_TOKEN = "rehearsal-earnings-token-0123456789";

describe("Deployment rehearsal: npm run deploy and check:deployment on a hardhat node, then the keepers", function () {
  this.timeout(300_000);

  let node: HardhatNode | undefined;
  let provider: JsonRpcProvider;
  let recordsDir: string;
  let record: DeploymentRecord;
  let params: DeploymentParameters;
  const deploymentId = `rehearsal-${process.pid}`;
  const journal = path.join(REPO, "deploy", "deployments", deploymentId);
  const keepers: KeeperProcess[] = [];

  const env = () => ({
    LOCALHOST_RPC_URL: node!.url,
    COVENANT_DEPLOYMENTS_DIR: recordsDir,
    COVENANT_DEPLOYMENT_ID: deploymentId,
  });

  before(async () => {
    node = await startHardhatNode({ chainId: CHAIN_ID, startTimeoutMs: 60_000 });
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    recordsDir = makeTempDir("covenant-rehearsal-records-");
    params = loadParameters("localhost");
  });

  after(async () => {
    await Promise.all(keepers.map((k) => k.stop(5_000)));
    stopAll();
    provider?.destroy();
    await node?.stop();
    rmSync(journal, { recursive: true, force: true });
  });

  it("npm run deploy: Safes, the suite, the record with transaction, block, commit and constructor arguments", async () => {
    const run = await runCommand("npm", ["run", "deploy", "--", "--network", "localhost"], env(), 180_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
    expect(run.stdout).to.include("phase 0: deploying Safe v1.4.1 contracts from their npm artifacts (local chain)");
    expect(run.stdout).to.include("verify: skipped on a local chain (no block explorer)");
    record = readDeployment(path.join(recordsDir, `${CHAIN_ID}.json`));
    expect(record.commit).to.match(/^[0-9a-f]{40}$/);
    expect(record.deployer).to.equal(KEYS.deployer.address);
    const names = Object.keys(record.contracts).sort();
    expect(names).to.deep.equal(
      [
        "AgentGoals",
        "AgentRegistry",
        "CommonsPolicy",
        "CommonsPolicyImplementation",
        "CouncilFlags",
        "CovenantGovernor",
        "CovenantTimelock",
        "CovenantVotes",
        "EarningsDistributor",
        "EvolutionRegistry",
        "RevenueRouter",
        "SpendingLimitModule",
        "Treasury",
      ].sort(),
    );
    for (const [name, c] of Object.entries(record.contracts)) {
      const receipt = await provider.getTransactionReceipt(c.transaction!);
      expect(receipt?.blockNumber, name).to.equal(c.block);
      expect(c.constructorArgs, name).to.be.an("array");
      if (c.createdBy === undefined) {
        expect(receipt?.contractAddress, name).to.equal(c.address);
        expect(BigInt(c.gasUsed!), name).to.equal(receipt?.gasUsed);
      }
    }
    expect(record.contracts.AgentRegistry?.constructorArgs?.[1]).to.equal(record.safes?.council);
    expect(record.contracts.CommonsPolicy?.contractName).to.equal("CommonsPolicyProxy");
    // Treasury's arguments are those EarningsDistributor's constructor gave it: (registry, router, admin, period).
    const treasury = new Contract(
      addressOf(record, "Treasury"),
      ["function limitPeriod() view returns (uint256)"],
      provider,
    );
    expect(record.contracts.Treasury?.constructorArgs?.[3]).to.equal(
      Number(await treasury.getFunction("limitPeriod")()),
    );
  });

  it("a second run resumes from Ignition's journal: nothing is sent, the same addresses are recorded", async () => {
    const head = await provider.getBlockNumber();
    const run = await runCommand("npm", ["run", "deploy", "--", "--network", "localhost"], env(), 120_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
    expect(run.stdout).to.include("council Safe");
    expect(run.stdout).to.include("already deployed");
    expect(await provider.getBlockNumber()).to.equal(head);
    const again = readDeployment(path.join(recordsDir, `${CHAIN_ID}.json`));
    for (const [name, c] of Object.entries(record.contracts)) {
      expect(again.contracts[name]?.address, name).to.equal(c.address);
    }
  });

  it("npm run check:deployment passes: every admin is the timelock or a named Safe, no key holds more than its role", async () => {
    const run = await runCommand("npm", ["run", "check:deployment", "--", "--network", "localhost"], env(), 120_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
    for (const part of ["safes", "identity", "governance", "treasury", "spending", "suite"]) {
      expect(run.stdout).to.include(`ok   ${part}`);
    }
    expect(run.stdout).to.include("matches localhost's parameters; no leftover privilege");
  });

  it("the keepers run against it for one lifecycle and stop cleanly on SIGTERM", async () => {
    const base = {
      RPC_URLS: node!.url,
      CHAIN_ID: String(CHAIN_ID),
      CONFIRMATIONS: "0",
      LOG_LEVEL: "info",
      HTTP_HOST: "127.0.0.1",
    };
    const start = async (name: string, extra: Record<string, string>) => {
      const port = await freePort();
      const keeper = new KeeperProcess(name, `http://127.0.0.1:${port}`, {
        ...base,
        HTTP_PORT: String(port),
        DATA_DIR: makeTempDir(`covenant-rehearsal-${name}-`),
        ...extra,
      });
      keepers.push(keeper);
      return keeper;
    };
    const fromBlock = String(record.fromBlock ?? 0);
    const spending = await start("spending", {
      SPENDING_MODULE_ADDRESS: addressOf(record, "SpendingLimitModule"),
      START_BLOCK: fromBlock,
      KEEPER_PRIVATE_KEY: KEYS.sentinel.privateKey,
      ANOMALY_TOKEN,
      POLL_INTERVAL_MS: "500",
    });
    const executor = await start("tx-executor", {
      KEEPER_PRIVATE_KEY: KEYS.executorRelayer.privateKey,
      SPENDING_MODULE: addressOf(record, "SpendingLimitModule"),
      AGENT_REGISTRY: addressOf(record, "AgentRegistry"),
      KEEPER_TOKENS: `relayer=${EXECUTOR_TOKEN},earnings=${EARNINGS_TOKEN}`,
      // The earnings keeper sends through the executor, which signs its transactions with the poster key.
      KEEPER_KEYS: `earnings=${KEYS.earningsPoster.privateKey}`,
      ANOMALY_URL: spending.url,
      ANOMALY_TOKEN,
      POLL_INTERVAL_MS: "200",
      TREASURY_ADDRESS: addressOf(record, "Treasury"),
      GAS_CHARGE_INTERVAL_MS: "1000",
    });
    const earnings = await start("earnings", {
      ROUTER_ADDRESS: addressOf(record, "RevenueRouter"),
      DISTRIBUTOR_ADDRESS: addressOf(record, "EarningsDistributor"),
      START_BLOCK: fromBlock,
      TX_EXECUTOR_URL: executor.url,
      TX_EXECUTOR_TOKEN: EARNINGS_TOKEN,
      POLL_INTERVAL_MS: "500",
    });
    const governance = await start("governance", {
      GOVERNOR_ADDRESS: addressOf(record, "CovenantGovernor"),
      START_BLOCK: fromBlock,
      KEEPER_PRIVATE_KEY: KEYS.simulator.privateKey,
      DEPLOYMENT_FILE: path.join(recordsDir, `${CHAIN_ID}.json`),
      POLL_INTERVAL_MS: "1000",
    });
    for (const k of keepers) {
      // Loading a keeper and opening its embedded database takes 10–30 s on a shared machine; they start together.
      const health = await k.healthz(180_000);
      expect(health.status, `${k.name}: ${JSON.stringify(health.body)}\n${k.tail()}`).to.equal(200);
    }

    // An agent is born: its operator registers it and offers the charter to the agent's own key.
    const wallet = (w: HDNodeWallet) => new Wallet(w.privateKey, provider);
    const operator = wallet(KEYS.operator);
    const registry = AgentRegistry__factory.connect(addressOf(record, "AgentRegistry"), operator);
    const registered = await (await registry["register(string)"]("ipfs://rehearsal-agent")).wait();
    const agentId = registry.interface.parseLog(
      registered!.logs.find((l) => l.topics[0] === registry.interface.getEvent("Registered").topicHash)!,
    )!.args.agentId as bigint;
    const agentKey = Wallet.createRandom();
    const agent = fromViemAccount(privateKeyToAccount(agentKey.privateKey as `0x${string}`));
    await (await registry.offerCharter(agentId, agentKey.address)).wait();

    // The agent signs its charter; the relayer keeper hands it to the tx-executor, which sends it.
    const now = (await provider.getBlock("latest"))!.timestamp;
    const deployment = {
      chainId: CHAIN_ID,
      registry: addressOf(record, "AgentRegistry"),
      spendingLimits: addressOf(record, "SpendingLimitModule"),
    };
    const accept = await signAction(
      agent,
      buildAction("AcceptCharter", deployment, {
        agentId,
        signer: agentKey.address as `0x${string}`,
        coreValues: [toBytes32Text("Serve user effectively")],
        deadline: BigInt(now + 3_600),
      }),
    );
    const call = relayCall(accept);
    const charter = await executorRequest(executor.url, EXECUTOR_TOKEN, {
      kind: "keeper",
      idempotencyKey: `rehearsal:accept-charter:${agentId}`,
      to: call.to,
      data: call.data,
      value: "0",
      label: "accept charter",
    });
    expect(charter.status, JSON.stringify(charter)).to.equal("confirmed");
    expect(charter.from).to.equal(KEYS.executorRelayer.address);
    expect(await registry.agentSigner(agentId)).to.equal(agentKey.address);

    // Its operator and a co-signer own its Safe (protocol-kit, the Safe contracts the deploy put on this chain), which
    // enables the SpendingLimitModule and sets caps; the agent spends through the tx-executor's HTTP API.
    const conn: SafeConnection = {
      provider: node!.url,
      signer: KEYS.operator.privateKey,
      chainId: CHAIN_ID,
      contracts: record.safeContracts!,
    };
    const owners = [KEYS.operator.privateKey, KEYS.cosigner.privateKey];
    const { address: safe } = await createSafe(conn, [KEYS.operator.address, KEYS.cosigner.address], 2, "4242");
    const moduleAddress = addressOf(record, "SpendingLimitModule");
    await execSafeTransaction(conn, safe, owners, [enableModuleCall(safe, moduleAddress)]);
    const limits = SpendingLimitModule__factory.connect(moduleAddress, operator);
    await (await limits.bindSafe(agentId, safe)).wait();
    await execSafeTransaction(conn, safe, owners, [
      {
        to: moduleAddress as `0x${string}`,
        data: limits.interface.encodeFunctionData("setTokenPolicy", [
          agentId,
          ETH,
          parseEther("0.5"),
          parseEther("1"),
        ]) as `0x${string}`,
      },
    ]);
    await (await wallet(KEYS.payer).sendTransaction({ to: safe, value: parseEther("2") })).wait();
    const recipient = Wallet.createRandom().address;
    const spendAt = (await provider.getBlock("latest"))!.timestamp;
    const spend = await signAction(
      agent,
      buildSpend(deployment, {
        agentId,
        to: recipient as `0x${string}`,
        amount: parseEther("0.1"),
        nonce: new SpendNonces().next(),
        deadline: BigInt(spendAt + 600),
        gas: 60_000n,
      }),
    );
    const client = new ExecutorClient(executor.url);
    const answer = await client.executeSpend(`rehearsal:spend:${agentId}:1`, spend);
    if (!answer.ok) throw new Error(`the tx-executor refused the spend: ${JSON.stringify(answer.refusal)}`);
    const spent = await client.waitFor(answer.record.id, 60_000);
    expect(spent.status, JSON.stringify(spent)).to.equal("confirmed");
    expect(await provider.getBalance(recipient)).to.equal(parseEther("0.1"));

    // The gas the executor paid for the spend is charged to the agent's infrastructure budget once it has one.
    const treasury = new Contract(
      addressOf(record, "Treasury"),
      [
        "function fundBudget(uint256 agentId, address token, uint256 amount) payable",
        "function budgetOf(uint256 agentId, address token) view returns (uint256)",
        "function isCharged(uint256 agentId, bytes32 service, bytes32 ref) view returns (bool)",
      ],
      wallet(KEYS.payer),
    );
    const budget = parseEther("0.01");
    await (await treasury.getFunction("fundBudget")(agentId, ZeroAddress, budget, { value: budget })).wait();
    const spendReceipt = (await provider.getTransactionReceipt(spent.hash!))!;
    const cost = spendReceipt.gasUsed * spendReceipt.gasPrice;
    const relayedGas = id("covenant.service.relayed-gas");
    for (let i = 0; !(await treasury.getFunction("isCharged")(agentId, relayedGas, spent.hash)); i++) {
      if (i > 120) throw new Error(`the relayed gas was never charged\n${executor.tail()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await treasury.getFunction("budgetOf")(agentId, ZeroAddress)).to.equal(budget - cost);

    // A user pays the agent; once the epoch has closed the earnings keeper posts its root.
    const router = RevenueRouter__factory.connect(addressOf(record, "RevenueRouter"), wallet(KEYS.payer));
    const epoch = await router.currentEpoch();
    await (await router.pay(agentId, ZeroAddress, parseEther("1"), ZeroHash, { value: parseEther("1") })).wait();
    await rpc(node!.url, "evm_increaseTime", [params.Treasury.epochLength + 1]);
    await rpc(node!.url, "evm_mine");
    const posted = await earnings.waitForLog(
      (l) => l.msg === "root posted",
      90_000,
      "the earnings keeper posts a root",
    );
    const distributor = new Contract(
      addressOf(record, "EarningsDistributor"),
      [
        "function epochInfo(uint256, address) view returns (tuple(bytes28 root, uint64 claimableAt, uint64 expiresAt, bool opened, bool swept, uint256 remaining))",
      ],
      provider,
    );
    const info = await distributor.getFunction("epochInfo")(epoch, ZeroAddress);
    expect(info.root, JSON.stringify(posted)).to.not.equal(`0x${"00".repeat(28)}`);
    const postTx = await provider.getTransaction(String(posted.tx));
    expect(postTx?.from, "the root is posted from the earnings poster key, by the executor").to.equal(
      KEYS.earningsPoster.address,
    );
    expect(Number(info.claimableAt)).to.equal(
      (await provider.getBlock(postTx!.blockNumber!))!.timestamp + params.Treasury.challengeWindow,
    );

    // Every keeper is still healthy, then stops on SIGTERM with exit code 0.
    for (const k of [spending, executor, earnings, governance]) {
      const health = await k.healthz();
      expect(health.status, `${k.name}: ${JSON.stringify(health.body)}`).to.equal(200);
    }
    for (const k of [earnings, governance, executor, spending]) {
      expect(await k.stop(), k.tail()).to.equal(0);
    }
  });

  describe("check:deployment names each class of leftover privilege and wrong parameter", () => {
    let findings: Finding[];
    const stranger = Wallet.createRandom().address;
    const findingsWith = (subject: string) => findings.filter((f) => f.subject === subject).map((f) => f.problem);

    before(async () => {
      // The timelock, impersonated on the node, grants what a careless deployment would have left behind.
      const timelock = addressOf(record, "CovenantTimelock");
      await rpc(node!.url, "hardhat_impersonateAccount", [timelock]);
      await rpc(node!.url, "hardhat_setBalance", [timelock, "0x56BC75E2D63100000"]);
      const asTimelock = new JsonRpcSigner(provider, timelock);
      const grant = async (contract: string, role: string, to: string) => {
        const c = new Contract(addressOf(record, contract), ["function grantRole(bytes32, address)"], asTimelock);
        await (await c.getFunction("grantRole")(role, to)).wait();
      };
      await grant("AgentRegistry", ZeroHash, KEYS.deployer.address); // the deployer an admin again
      await grant("RevenueRouter", ZeroHash, stranger); // an admin that is neither the timelock nor a Safe
      await grant("EarningsDistributor", id("EARNINGS_POSTER_ROLE"), stranger); // a keeper role, unexpected key
      await grant("EvolutionRegistry", id("SIMULATOR_ROLE"), KEYS.deployer.address);
      await grant("Treasury", id("UNLISTED_ROLE"), stranger); // a role no check knows about
      const module = new Contract(
        addressOf(record, "SpendingLimitModule"),
        ["function setSentinel(address, uint16, uint32)"],
        asTimelock,
      );
      await (await module.getFunction("setSentinel")(stranger, 1, 3_600)).wait(); // a second sentinel key
      await rpc(node!.url, "hardhat_stopImpersonatingAccount", [timelock]);

      // A parameters file that differs from the chain, and a record missing a part.
      const changed = structuredClone(params);
      changed.Treasury.epochLength = params.Treasury.epochLength * 2;
      changed.Governance.votingPeriod = (params.Governance.votingPeriod ?? 0) + 60;
      changed.Identity.recoveryDelay = params.Identity.recoveryDelay + 1;
      const partial = structuredClone(record);
      delete partial.contracts.CommonsPolicyImplementation;
      partial.contracts.AgentGoals = { address: stranger as `0x${string}` };
      const results = await runDeploymentChecks({
        provider,
        record: partial,
        params: changed,
        fromBlock: record.fromBlock ?? 0,
      });
      findings = results.flatMap((r) => r.findings);
    });

    it("a deployer that still holds a role", () => {
      expect(findingsWith("AgentRegistry.DEFAULT_ADMIN_ROLE")).to.deep.equal([
        `held by the deployer ${KEYS.deployer.address}`,
      ]);
      expect(findingsWith("EvolutionRegistry.SIMULATOR_ROLE")).to.deep.equal([
        `held by the deployer ${KEYS.deployer.address}`,
      ]);
    });

    it("an admin that is not the timelock or a named Safe", () => {
      expect(findingsWith("RevenueRouter.DEFAULT_ADMIN_ROLE")).to.deep.equal([
        `held by an unexpected account ${stranger}`,
      ]);
    });

    it("a keeper role held by an unexpected key", () => {
      expect(findingsWith("EarningsDistributor.EARNINGS_POSTER_ROLE")).to.deep.equal([
        `held by an unexpected account ${stranger}`,
      ]);
      expect(findingsWith("SpendingLimitModule sentinel")).to.deep.equal([`held by an unexpected account ${stranger}`]);
    });

    it("a role that no check expects, on any contract of the record", () => {
      expect(findingsWith(`Treasury.${id("UNLISTED_ROLE")}`)).to.deep.equal([
        `held by an unexpected account ${stranger}, and no holder of this role is expected`,
      ]);
    });

    it("a parameter that differs from the parameters file", () => {
      expect(findingsWith("RevenueRouter.epochLength")).to.deep.equal([
        `is ${params.Treasury.epochLength}, the parameters file says ${params.Treasury.epochLength * 2}`,
      ]);
      expect(findingsWith("CovenantGovernor.votingPeriod")).to.deep.equal([
        `is ${params.Governance.votingPeriod}, the parameters file says ${(params.Governance.votingPeriod ?? 0) + 60}`,
      ]);
      expect(findingsWith("AgentRegistry.recoveryDelay")).to.deep.equal([
        `is ${params.Identity.recoveryDelay}, the parameters file says ${params.Identity.recoveryDelay + 1}`,
      ]);
    });

    it("a part missing or not where the record says", () => {
      expect(findingsWith("AgentGoals")).to.have.members([
        `no contract at ${stranger}`,
        `the registry names ${addressOf(record, "AgentGoals")}, the record ${stranger}`,
      ]);
      expect(findingsWith("CommonsPolicy.implementation")).to.deep.equal([
        `is ${addressOf(record, "CommonsPolicyImplementation")}, the record says nothing`,
      ]);
    });

    it("nothing else: every finding is one made on purpose", () => {
      const expected = [
        "AgentRegistry.DEFAULT_ADMIN_ROLE",
        "EvolutionRegistry.SIMULATOR_ROLE",
        "RevenueRouter.DEFAULT_ADMIN_ROLE",
        "EarningsDistributor.EARNINGS_POSTER_ROLE",
        "SpendingLimitModule sentinel",
        `Treasury.${id("UNLISTED_ROLE")}`,
        "RevenueRouter.epochLength",
        "CovenantGovernor.votingPeriod",
        "AgentRegistry.recoveryDelay",
        "AgentGoals",
        "CommonsPolicy.implementation",
      ];
      expect(findings.filter((f) => !expected.includes(f.subject))).to.deep.equal([]);
    });

    it("npm run check:deployment fails and names them", async () => {
      const run = await runCommand("npm", ["run", "check:deployment", "--", "--network", "localhost"], env(), 120_000);
      expect(run.code, run.stdout).to.equal(1);
      expect(run.stdout).to.include("FAIL identity");
      expect(run.stderr).to.include(`AgentRegistry.DEFAULT_ADMIN_ROLE: held by the deployer ${KEYS.deployer.address}`);
      expect(run.stderr).to.include(
        `EarningsDistributor.EARNINGS_POSTER_ROLE: held by an unexpected account ${stranger}`,
      );
      expect(run.stderr).to.include(`RevenueRouter.DEFAULT_ADMIN_ROLE: held by an unexpected account ${stranger}`);
    });
  });
});

/** POST /tx/execute, then GET /tx/status/:id until the request is confirmed, failed or rejected. */
async function executorRequest(
  url: string,
  token: string | undefined,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/tx/execute`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const first = (await res.json()) as Record<string, unknown>;
  if (res.status !== 202 && res.status !== 200)
    throw new Error(`tx-executor answered ${res.status}: ${JSON.stringify(first)}`);
  const deadline = Date.now() + 60_000;
  for (let record = first; ; ) {
    if (["confirmed", "failed", "rejected"].includes(String(record.status))) return record;
    if (Date.now() > deadline) throw new Error(`tx-executor request not settled: ${JSON.stringify(record)}`);
    await new Promise((r) => setTimeout(r, 250));
    record = (await (await fetch(`${url}/tx/status/${String(first.id)}`)).json()) as Record<string, unknown>;
  }
}
