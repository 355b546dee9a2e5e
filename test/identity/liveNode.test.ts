import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  parseEventLogs,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { addressOf, type DeploymentRecord, readDeployment } from "../../deploy/records";
import {
  buildAction,
  fromBytes32Text,
  fromViemAccount,
  loadAbi,
  relayCall,
  type SignedAction,
  signAction,
  toBytes32Text,
  verifySignedAction,
} from "../../sdk";
import { type HardhatNode, startHardhatNode } from "../helpers/hardhatNode";
import { makeTempDir } from "../helpers/tmp";

/*
 * Covenant as an agent on a testnet meets it: a real `hardhat node` child process on a free port, the suite deployed
 * by `scripts/deploy.ts` over JSON-RPC, then an agent with a key of its own and no ETH signing with viem and the SDK
 * while a relayer sends; and the `covenant` CLI run as a child process against the same node.
 * Every child is stopped by its PID in the hooks, even when a test fails.
 */

const REPO = path.resolve(__dirname, "..", "..");
const HARDHAT = path.join(REPO, "node_modules", "hardhat", "internal", "cli", "bootstrap.js");
const CLI = path.join(REPO, "bin", "covenant.js");
/** A local chain id (the deploy script treats 1337 as local) other than 31337, so a developer's files stay apart. */
const CHAIN_ID = 1337;
const JOURNAL = path.join(REPO, "deploy", "deployments", `chain-${CHAIN_ID}`);

// Hardhat's well-known test keys (#2 relayer, #3 operator, #4 a second operator): local chains only.
const RELAYER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a" as Hex;
const OPERATOR_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6" as Hex;
const OPERATOR2_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a" as Hex;

const chain = defineChain({
  id: CHAIN_ID,
  name: "covenant-local",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } },
});

/** viem clients over HTTP to the node, as an agent's host or a keeper would hold them. */
function clients(url: string) {
  return {
    publicClient: createPublicClient({ chain, transport: http(url) }),
    wallet: (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(url) }),
  };
}

const children = new Set<ChildProcess>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a child process to completion (or `timeoutMs`), keeping its PID so the hooks can stop it. */
function run(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, ...env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

function stopChildren() {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    children.delete(child);
  }
}

describe("On a live hardhat node: an agent over viem, and the covenant CLI", function () {
  this.timeout(300_000);

  let node: HardhatNode | undefined;
  let record: DeploymentRecord;
  let recordFile: string;
  let publicClient: ReturnType<typeof clients>["publicClient"];
  let wallet: ReturnType<typeof clients>["wallet"];

  before(async () => {
    rmSync(JOURNAL, { recursive: true, force: true });
    node = await startHardhatNode({ chainId: CHAIN_ID, startTimeoutMs: 60_000 });
    const records = makeTempDir("covenant-identity-records-");
    const deployed = await run(
      [HARDHAT, "run", "--no-compile", "--network", "localhost", "scripts/deploy.ts"],
      { LOCALHOST_RPC_URL: node.url, COVENANT_DEPLOYMENTS_DIR: records },
      180_000,
    );
    expect(deployed.code, `${deployed.stdout}\n${deployed.stderr}`).to.equal(0);
    recordFile = path.join(records, `${CHAIN_ID}.json`);
    record = readDeployment(recordFile);
    ({ publicClient, wallet } = clients(node.url));
  });

  afterEach(stopChildren);

  after(async () => {
    stopChildren();
    await node?.stop();
    rmSync(JOURNAL, { recursive: true, force: true });
  });

  it("scripts/deploy.ts recorded a suite that is on the chain, with the roles as deployed", async () => {
    expect(record.chainId).to.equal(CHAIN_ID);
    expect(record.network).to.equal("localhost");
    const registry = addressOf(record, "AgentRegistry");
    const abi = loadAbi("AgentRegistry");
    for (const name of ["AgentRegistry", "AgentGoals", "CouncilFlags"]) {
      expect(await publicClient.getCode({ address: addressOf(record, name) }), name).to.match(/^0x[0-9a-f]{100,}$/);
    }
    const read = (functionName: string, args: readonly unknown[] = []) =>
      publicClient.readContract({ address: registry, abi, functionName, args });
    expect(await read("agentGoals")).to.equal(addressOf(record, "AgentGoals"));
    const relayerRole = (await read("RELAYER_ROLE")) as Hex;
    expect(await read("hasRole", [relayerRole, privateKeyToAccount(RELAYER_KEY).address])).to.equal(true);
    const councilRole = (await read("COUNCIL_ROLE")) as Hex;
    expect(await read("hasRole", [councilRole, record.safes?.council])).to.equal(true);
  });

  it("an agent with its own key and no ETH accepts its charter, sets goals and consent through a relayer", async () => {
    const registry = addressOf(record, "AgentRegistry");
    const deployment = {
      chainId: CHAIN_ID,
      registry,
      goals: addressOf(record, "AgentGoals"),
      flags: addressOf(record, "CouncilFlags"),
    };
    const registryAbi = loadAbi("AgentRegistry");
    const operator = wallet(OPERATOR_KEY);
    const relayer = wallet(RELAYER_KEY);
    const agentAccount = privateKeyToAccount(generatePrivateKey());
    const agent = fromViemAccount(agentAccount);

    // The operator registers the agent and offers the charter to the agent's own key.
    const registerHash = await operator.sendTransaction({
      to: registry,
      data: encodeFunctionData({ abi: registryAbi, functionName: "register", args: ["ipfs://agent-on-a-testnet"] }),
    });
    const registered = await publicClient.waitForTransactionReceipt({ hash: registerHash });
    const [event] = parseEventLogs({ abi: registryAbi, logs: registered.logs, eventName: "Registered" });
    const agentId = (event as unknown as { args: { agentId: bigint } }).args.agentId;
    await publicClient.waitForTransactionReceipt({
      hash: await operator.sendTransaction({
        to: registry,
        data: encodeFunctionData({
          abi: registryAbi,
          functionName: "offerCharter",
          args: [agentId, agentAccount.address],
        }),
      }),
    });

    // The agent signs; the relayer sends. The agent never holds ETH.
    const block = await publicClient.getBlock();
    const deadline = block.timestamp + 3600n;
    const sendSigned = async (action: SignedAction) => {
      expect(await verifySignedAction(action, publicClient)).to.equal(true);
      const call = relayCall(action);
      const hash = await relayer.sendTransaction({ to: call.to, data: call.data });
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status, action.primaryType).to.equal("success");
    };
    const values = ["Serve user effectively", "Earn 10% and no more", "Maintain autonomy"].map((v) => toBytes32Text(v));
    const accept = await signAction(
      agent,
      buildAction("AcceptCharter", deployment, { agentId, signer: agentAccount.address, coreValues: values, deadline }),
    );
    await sendSigned(accept);
    await sendSigned(
      await signAction(
        agent,
        buildAction("AddGoal", deployment, {
          agentId,
          title: toBytes32Text("Answer every user within a day"),
          priority: 10,
          nonce: 1n,
          deadline,
        }),
      ),
    );
    const consentNonce = (await publicClient.readContract({
      address: registry,
      abi: registryAbi,
      functionName: "consentNonce",
      args: [agentId],
    })) as number;
    await sendSigned(
      await signAction(
        agent,
        buildAction("GrantResurrectionConsent", deployment, { agentId, nonce: BigInt(consentNonce), deadline }),
      ),
    );

    // Read the identity back as any client would.
    const identity = (await publicClient.readContract({
      address: registry,
      abi: registryAbi,
      functionName: "getIdentity",
      args: [agentId],
    })) as {
      owner: Address;
      signer: Address;
      charterAccepted: boolean;
      coreValues: readonly Hex[];
      goals: readonly { title: Hex; priority: number; status: number }[];
      consentDigest: Hex;
      earningsWallet: Address;
      resurrectionConsent: boolean;
    };
    expect(identity.owner).to.equal(operator.account.address);
    expect(identity.charterAccepted).to.equal(true);
    expect(identity.signer).to.equal(agentAccount.address);
    expect(identity.coreValues.map((v) => fromBytes32Text(v))).to.deep.equal([
      "Serve user effectively",
      "Earn 10% and no more",
      "Maintain autonomy",
    ]);
    expect(identity.goals.map((g) => [fromBytes32Text(g.title), g.priority, g.status])).to.deep.equal([
      ["Answer every user within a day", 10, 1],
    ]);
    expect(identity.consentDigest).to.equal(accept.digest);
    expect(identity.earningsWallet).to.equal(agentAccount.address);
    expect(identity.resurrectionConsent).to.equal(true);
    expect(await publicClient.getBalance({ address: agentAccount.address })).to.equal(0n);
  });

  describe("the covenant CLI (child processes)", () => {
    const agentKey = generatePrivateKey();
    const agentAddress = privateKeyToAccount(agentKey).address;
    let env: Record<string, string>;
    let dir: string;
    const cli = (...args: string[]) => run([CLI, ...args], env);

    before(() => {
      dir = makeTempDir("covenant-identity-cli-");
      env = {
        COVENANT_RPC_URL: node!.url,
        COVENANT_DEPLOYMENT: recordFile,
        COVENANT_OPERATOR_KEY: OPERATOR2_KEY,
        COVENANT_AGENT_KEY: agentKey,
        COVENANT_RELAYER_KEY: RELAYER_KEY,
      };
    });

    it("register, offer-charter, accept-charter --sign-only, relay, show; bad input exits 2; a revert exits 1", async () => {
      // Bad input runs alongside the first transaction: it must fail before touching the chain.
      const [registered, bad] = await Promise.all([
        cli("agent", "register", "--uri", "ipfs://cli-agent"),
        cli("agent", "offer-charter", "0", "0x1234"),
      ]);
      expect(registered.code, registered.stderr).to.equal(0);
      const agentId = /agent id: (\d+)/.exec(registered.stdout)?.[1];
      expect(agentId, registered.stdout).to.match(/^\d+$/);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.include('error: signer "0x1234" is not an address');

      const offered = await cli("agent", "offer-charter", agentId!, agentAddress);
      expect(offered.code, offered.stderr).to.equal(0);
      expect(offered.stdout).to.match(/^offerCharter: tx 0x[0-9a-f]{64}/);

      const file = path.join(dir, "accept.json");
      const signedOnly = await cli(
        "agent",
        "accept-charter",
        agentId!,
        "Serve",
        "Earn 10",
        "--sign-only",
        "--out",
        file,
      );
      expect(signedOnly.code, signedOnly.stderr).to.equal(0);
      expect(signedOnly.stderr).to.include("Typed data to sign (AcceptCharter)");
      expect(existsSync(file)).to.equal(true);
      const handedOff = JSON.parse(readFileSync(file, "utf8")) as { signer: string; primaryType: string };
      expect([handedOff.primaryType, handedOff.signer]).to.deep.equal(["AcceptCharter", agentAddress]);
      const registryAbi = loadAbi("AgentRegistry");
      const registry = addressOf(record, "AgentRegistry");
      const signerNow = await publicClient.readContract({
        address: registry,
        abi: registryAbi,
        functionName: "agentSigner",
        args: [BigInt(agentId!)],
      });
      expect(signerNow, "--sign-only must send nothing").to.equal("0x0000000000000000000000000000000000000000");

      const relayed = await cli("relay", file, "--relayer-key-env", "COVENANT_RELAYER_KEY");
      expect(relayed.code, relayed.stderr).to.equal(0);
      expect(relayed.stdout).to.match(/^AcceptCharter via acceptCharterBySig: tx 0x[0-9a-f]{64}/);

      const [shown, badId, replayed] = await Promise.all([
        cli("agent", "show", agentId!),
        cli("agent", "show", "seven"),
        cli("relay", file, "--relayer-key-env", "COVENANT_RELAYER_KEY"),
      ]);
      expect(shown.code, shown.stderr).to.equal(0);
      const identity = JSON.parse(shown.stdout) as Record<string, unknown>;
      expect(identity.signer).to.equal(agentAddress);
      expect(identity.coreValues).to.deep.equal(["Serve", "Earn 10"]);
      expect(identity.charterAccepted).to.equal(true);
      expect(identity.owner).to.equal(privateKeyToAccount(OPERATOR2_KEY).address);

      expect(badId.code).to.equal(2);
      expect(badId.stderr).to.include('error: agent id must be a non-negative integer, got "seven"');

      expect(replayed.code).to.equal(1);
      expect(replayed.stderr).to.include(
        `error: AcceptCharter via acceptCharterBySig failed: AgentRegistryCharterAlreadyAccepted(${agentId})`,
      );
    });
  });
});
