import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import hre from "hardhat";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { type Address, formatEther, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { createSafe, deploySafeContracts, type SafeConnection } from "../../deploy/safe";
import { ExecutorClient } from "../../keepers/tx-executor/client";
import { TxExecutorService } from "../../keepers/tx-executor/service";
import { buildSpend, type Deployment, ETH, fromEthersSigner, SpendNonces, signAction } from "../../sdk";
import { enableModuleCall, execSafeTransaction } from "../../sdk/safe";
import type { SpendingLimitModule, Treasury } from "../../typechain-types";
import { check, type Report } from "./report";

/*
 * The tx-executor in the demo: an agent spends from its Safe within its limits by sending its signed
 * `Spend` to the executor, which relays it; a spend above the per-transaction cap is refused by the
 * executor, before anything reaches the chain. The executor runs in this process against the demo's
 * chain, served over JSON-RPC as `hardhat node` serves it.
 */

export const DEMO_PER_TX = 10n ** 17n; // 0.1 ETH
export const DEMO_DAILY = 25n * 10n ** 16n; // 0.25 ETH
const DEMO_MNEMONIC = "test test test test test test test test test test test junk";
const ZERO = "0x0000000000000000000000000000000000000000";

export interface ExecutorDemoAgent {
  name: string;
  agentId: bigint;
  operator: HardhatEthersSigner;
  key: HardhatEthersSigner;
}

export interface ExecutorDemoOptions {
  module: SpendingLimitModule;
  registry: Address;
  agent: ExecutorDemoAgent;
  recipient: HardhatEthersSigner;
  /** Hardhat account index of the relayer key the executor signs with (a key nobody else uses). */
  relayerIndex: number;
  /** The agent's Safe when the spending demo already set one up; else one is created here. */
  safe?: Address;
  /** The Treasury whose infrastructure budget pays the agent's relayed gas (the relayer holds RELAYED_GAS_SERVICE). */
  treasury: Treasury;
}

/** The agent's 1-of-1 Safe (its operator), with the module enabled and bound, limits set, and 1 ETH in it. */
async function prepareSafe(report: Report, o: ExecutorDemoOptions): Promise<Address> {
  const { module, agent } = o;
  const [deployer] = await hre.ethers.getSigners();
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const conn: SafeConnection = {
    provider: hre.network.provider as never,
    signer: agent.operator.address,
    chainId,
    contracts: await deploySafeContracts(deployer!),
  };
  const safe = (await createSafe(conn, [agent.operator.address], 1, String(4_000n + agent.agentId))).address as Address;
  const moduleAddress = (await module.getAddress()) as Address;
  const m = module.interface;
  await execSafeTransaction(conn, safe, [agent.operator.address], [enableModuleCall(safe, moduleAddress)]);
  await (await module.connect(agent.operator).bindSafe(agent.agentId, safe)).wait();
  const policy = await execSafeTransaction(
    conn,
    safe,
    [agent.operator.address],
    [
      {
        to: moduleAddress,
        data: m.encodeFunctionData("setTokenPolicy", [agent.agentId, ETH, DEMO_PER_TX, DEMO_DAILY]) as `0x${string}`,
      },
    ],
  );
  await (await deployer!.sendTransaction({ to: safe, value: 10n ** 18n })).wait();
  const p = await module.tokenPolicy(agent.agentId, ETH);
  check(
    p.perTxCap === DEMO_PER_TX && p.dailyCap === DEMO_DAILY,
    `${agent.name}: the Safe's ETH policy reads back wrong`,
  );
  check((await module.agentState(agent.agentId)).safe === safe, `${agent.name}: not bound to its Safe`);
  report.add({
    step: `${agent.name}'s Safe`,
    detail: `${safe.slice(0, 10)}…, 1 ETH, limits 0.1 ETH a spend / 0.25 ETH a day`,
    tx: policy,
  });
  return safe;
}

function devKey(index: number): `0x${string}` {
  const key = mnemonicToAccount(DEMO_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error("no key");
  return toHex(key);
}

export async function spendThroughExecutor(report: Report, o: ExecutorDemoOptions): Promise<void> {
  report.section("Spending through the tx-executor");
  const { module, agent, recipient } = o;
  // The agent's Safe from the spending steps when it has one; otherwise one is set up here.
  const bound = (await module.agentState(agent.agentId)).safe as Address;
  const safe = o.safe ?? (bound !== ZERO ? bound : await prepareSafe(report, o));
  const perTxCap = (await module.tokenPolicy(agent.agentId, ETH)).perTxCap;
  const moduleAddress = (await module.getAddress()) as Address;
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);

  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider as never });
  const { port } = await server.listen();
  const dataDir = mkdtempSync(join(tmpdir(), "covenant-demo-executor-"));
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const service = new TxExecutorService({
    env: {
      RPC_URLS: `http://127.0.0.1:${port}`,
      CHAIN_ID: String(chainId),
      DATA_DIR: join(dataDir, "db"),
      HTTP_PORT: "0",
      CONFIRMATIONS: "1",
      POLL_INTERVAL_MS: "200",
      KEEPER_PRIVATE_KEY: devKey(o.relayerIndex),
      SPENDING_MODULE: moduleAddress,
      TREASURY_ADDRESS: await o.treasury.getAddress(),
      GAS_CHARGE_INTERVAL_MS: "86400000", // charged below, in one round the demo waits for
      LOG_LEVEL: "silent",
    },
    logDestination: quiet,
  });
  try {
    await service.start();
    const client = new ExecutorClient(service.url());
    const relayer = mnemonicToAccount(DEMO_MNEMONIC, { addressIndex: o.relayerIndex }).address;
    report.add({
      step: "tx-executor started",
      detail: `relayer ${relayer.slice(0, 10)}…, module ${moduleAddress.slice(0, 10)}…`,
    });

    const deployment: Deployment = { chainId, registry: o.registry, spendingLimits: moduleAddress };
    const signer = await fromEthersSigner(agent.key);
    const nonces = new SpendNonces();
    const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const spend = (amount: bigint) =>
      signAction(
        signer,
        buildSpend(deployment, {
          agentId: agent.agentId,
          to: recipient.address as Address,
          amount,
          nonce: nonces.next(),
          deadline,
          gas: 60_000n,
        }),
      );

    // Within the limits: relayed by the executor, paid by the Safe.
    const amount = 5n * 10n ** 16n;
    const before = {
      safe: await hre.ethers.provider.getBalance(safe),
      to: await hre.ethers.provider.getBalance(recipient.address),
    };
    const ok = await client.executeSpend(`demo-${agent.name}-1`, await spend(amount));
    check(ok.ok, `${agent.name}'s spend within limits was refused: ${!ok.ok && ok.refusal.message}`);
    const done = await client.waitFor(ok.record.id, 60_000, 100);
    check(
      done.status === "confirmed",
      `${agent.name}'s spend ended ${done.status}: ${done.revertReason ?? done.error ?? ""}`,
    );
    const receipt = await hre.ethers.provider.getTransactionReceipt(done.hash!);
    check(receipt?.status === 1 && receipt.from === relayer, "the spend was not mined from the executor's relayer key");
    check(
      (await hre.ethers.provider.getBalance(recipient.address)) - before.to === amount,
      "the recipient did not get the amount",
    );
    check(before.safe - (await hre.ethers.provider.getBalance(safe)) === amount, "the Safe did not pay the amount");
    report.add({
      step: `${agent.name} spends 0.05 ETH through the executor`,
      detail: `signed by the agent, checked and relayed by the executor (nonce ${done.nonce}), paid by its Safe`,
      tx: done.hash!,
      gas: receipt!.gasUsed,
    });

    // Over the per-transaction cap: refused by the executor, nothing sent.
    const relayerNonce = await hre.ethers.provider.getTransactionCount(relayer);
    const safeBalance = await hre.ethers.provider.getBalance(safe);
    const over = await client.executeSpend(`demo-${agent.name}-2`, await spend(2n * perTxCap));
    check(
      !over.ok && over.refusal.status === 422 && over.refusal.code === "over_tx_cap",
      "an over-cap spend was not refused",
    );
    check(
      (await hre.ethers.provider.getTransactionCount(relayer)) === relayerNonce,
      "the refused spend reached the chain",
    );
    check((await hre.ethers.provider.getBalance(safe)) === safeBalance, "the refused spend moved money");
    report.add({
      step: `${agent.name} tries ${formatEther(2n * perTxCap)} ETH through the executor`,
      detail: `refused before the chain: ${!over.ok ? `${over.refusal.status} ${over.refusal.code}` : ""} (no transaction, no gas)`,
    });

    const gas = (await (await fetch(`${service.url()}/agents/${agent.agentId}/gas`)).json()) as {
      gasUsed: string;
      costWei: string;
    };
    check(BigInt(gas.gasUsed) === receipt!.gasUsed, "the relayed gas recorded for the agent is wrong");
    // The executor charges what it paid to the agent's infrastructure budget in the Treasury (chargeServices).
    const budget = await o.treasury.budgetOf(agent.agentId, ETH);
    const first = await service.charger!.round();
    check(first.submitted?.charges === 1, "the executor did not submit the gas charge");
    let charged = 0;
    for (let i = 0; i < 100 && charged === 0; i++) {
      charged = (await service.charger!.round()).charged;
      if (charged === 0) await new Promise((r) => setTimeout(r, 50));
    }
    check(charged === 1, "the gas charge did not confirm");
    check(
      budget - (await o.treasury.budgetOf(agent.agentId, ETH)) === BigInt(gas.costWei),
      "the agent's infrastructure budget did not pay exactly the relayed gas",
    );
    const [event] = await o.treasury.queryFilter(o.treasury.filters.ServiceCharged(agent.agentId));
    check(event?.args.ref === done.hash, "the charge does not name the relayed transaction");
    report.add({
      step: `${agent.name}'s budget pays the relayed gas`,
      detail: `${gas.gasUsed} gas = ${formatEther(BigInt(gas.costWei))} ETH charged by chargeServices, ref = the spend's tx hash`,
      tx: event!.transactionHash,
      gas: (await event!.getTransactionReceipt()).gasUsed,
    });
  } finally {
    await service.stop("demo done");
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
