import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import hre from "hardhat";
import { createSafe, deploySafeContracts, type SafeConnection } from "../../deploy/safe";
import {
  approveSpendTypedData,
  buildSpend,
  type Deployment,
  ETH,
  fromEthersSigner,
  SpendNonces,
  signAction,
  spendRelayCall,
  toQueuedSpendView,
} from "../../sdk";
import { enableModuleCall, execSafeTransaction, signSafeMessage } from "../../sdk/safe";
import type { SpendingLimitModule } from "../../typechain-types";
import { check, type Report } from "./report";

const ONE = 10n ** 18n;
const PER_TX = ONE / 2n;
const DAILY = ONE;
const DELAY = 3600;

export interface SpendingDemoParties {
  deployer: HardhatEthersSigner;
  /** The agent's operator and a co-signer: the owners of its 2-of-2 Safe. */
  operator: HardhatEthersSigner;
  cosigner: HardhatEthersSigner;
  /** The agent signer. */
  agentKey: HardhatEthersSigner;
  /** A keeper key that relays what the agent and the owners signed. */
  keeper: HardhatEthersSigner;
  recipient: HardhatEthersSigner;
}

async function mined(
  tx: Promise<{ wait(): Promise<{ hash: string; gasUsed: bigint; status: number | null } | null> }>,
) {
  const receipt = await (await tx).wait();
  if (receipt?.status !== 1) throw new Error("transaction failed");
  return { tx: receipt.hash, gas: receipt.gasUsed };
}

/** The module's custom error for a call that would revert, as "Name(args)"; undefined when it would not revert. */
async function refusal(module: SpendingLimitModule, from: string, data: string): Promise<string | undefined> {
  try {
    await hre.ethers.provider.call({ from, to: await module.getAddress(), data });
    return undefined;
  } catch (err) {
    const revert = (err as { data?: string }).data;
    const parsed = revert ? module.interface.parseError(revert) : null;
    return parsed ? `${parsed.name}(${parsed.args.join(", ")})` : String(err);
  }
}

/**
 * Spending within limits: the agent's Safe (its operator and a co-signer own it) enables the module and sets caps;
 * the agent spends within them, an over-limit spend is refused on-chain, the same spend is queued, the owners
 * approve it with protocol-kit, and it executes after the delay. A keeper key relays through the SDK.
 */
export async function spendingDemo(
  report: Report,
  module: SpendingLimitModule,
  chainId: number,
  agentId: bigint,
  agentName: string,
  p: SpendingDemoParties,
): Promise<void> {
  report.section("Spending within limits");
  const moduleAddress = await module.getAddress();
  const conn: SafeConnection = {
    provider: hre.network.provider as never,
    signer: p.operator.address,
    chainId,
    contracts: await deploySafeContracts(p.deployer),
  };
  const owners = [p.operator.address, p.cosigner.address];
  const { address: safe, txHash } = await createSafe(conn, owners, 2, String(7000n + agentId));
  await execSafeTransaction(conn, safe, owners, [enableModuleCall(safe, moduleAddress)]);
  check(
    await new hre.ethers.Contract(
      safe,
      ["function isModuleEnabled(address) view returns (bool)"],
      hre.ethers.provider,
    ).getFunction("isModuleEnabled")(moduleAddress),
    `${agentName}'s Safe does not have the module enabled`,
  );
  report.add({ step: `${agentName}'s Safe`, detail: `2-of-2 (operator, co-signer), module enabled`, tx: txHash });

  const bind = await mined(module.connect(p.operator).bindSafe(agentId, safe));
  const m = module.interface;
  const policyTx = await execSafeTransaction(conn, safe, owners, [
    {
      to: moduleAddress as `0x${string}`,
      data: m.encodeFunctionData("setTokenPolicy", [agentId, ETH, PER_TX, DAILY]) as `0x${string}`,
    },
    {
      to: moduleAddress as `0x${string}`,
      data: m.encodeFunctionData("setQueueDelay", [agentId, DELAY]) as `0x${string}`,
    },
  ]);
  await mined(p.deployer.sendTransaction({ to: safe, value: 5n * ONE }));
  const policy = await module.tokenPolicy(agentId, ETH);
  check((await module.agentState(agentId)).safe === safe, `${agentName} is not bound to its Safe`);
  check(policy.perTxCap === PER_TX && policy.dailyCap === DAILY, `${agentName}'s caps read back wrong`);
  report.add({ step: `bind ${agentName} to it`, detail: "by the operator", ...bind });
  report.add({
    step: "the owners set the caps",
    detail: "0.5 ETH per spend, 1 ETH a day, 1 h queue delay",
    tx: policyTx,
  });

  const deployment: Deployment = {
    chainId,
    registry: (await module.registry()) as `0x${string}`,
    spendingLimits: moduleAddress as `0x${string}`,
  };
  const agentSigner = await fromEthersSigner(p.agentKey);
  const nonces = new SpendNonces();
  const sign = async (amount: bigint) => {
    const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    return signAction(
      agentSigner,
      buildSpend(deployment, {
        agentId,
        to: p.recipient.address as `0x${string}`,
        amount,
        nonce: nonces.next(),
        deadline: BigInt(now + 600),
        gas: 60_000n,
      }),
    );
  };

  // Within limits: signed by the agent, relayed by the keeper key.
  const before = await hre.ethers.provider.getBalance(p.recipient.address);
  const small = spendRelayCall(await sign(ONE / 5n));
  const spent = await mined(p.keeper.sendTransaction({ to: small.to, data: small.data }));
  check(
    (await hre.ethers.provider.getBalance(p.recipient.address)) - before === ONE / 5n,
    "the recipient did not get 0.2 ETH",
  );
  const left = await module.remainingToday(agentId, ETH);
  check(left === DAILY - ONE / 5n, `0.8 ETH should be left today, the module says ${left}`);
  report.add({
    step: `${agentName} spends 0.2 ETH`,
    detail: `signed by the agent, relayed; 0.8 ETH left today`,
    ...spent,
  });

  // Over the per-transaction cap: the module refuses it.
  const large = await sign(2n * ONE);
  const refused = await refusal(module, p.keeper.address, spendRelayCall(large).data);
  check(refused?.startsWith("SpendingLimitModuleOverPerTxCap"), `a 2 ETH spend should be refused, got ${refused}`);
  report.add({ step: `${agentName} tries 2 ETH`, detail: `refused on-chain: ${refused}` });

  // The same signed Spend goes to the owners' queue instead.
  const queueId = await module.queueLength();
  const queue = spendRelayCall(large, "queue");
  const queued = await mined(p.keeper.sendTransaction({ to: queue.to, data: queue.data }));
  check(Number((await module.queuedSpend(queueId)).status) === 1, "the spend is not pending in the queue");
  report.add({ step: "queued for the owners", detail: `queue id ${queueId}, awaiting approval`, ...queued });

  const view = toQueuedSpendView(await module.queuedSpend(queueId));
  const signatures = await signSafeMessage(
    conn,
    safe,
    owners,
    approveSpendTypedData(chainId, moduleAddress as `0x${string}`, queueId, view) as never,
  );
  const approved = await mined(module.connect(p.keeper).approveQueuedSpendBySig(queueId, signatures));
  const executableAt = (await module.queuedSpend(queueId)).executableAt;
  check(Number((await module.queuedSpend(queueId)).status) === 2, "the owners' approval did not take");
  report.add({ step: "the owners approve", detail: "2 of 2 signatures via protocol-kit, relayed", ...approved });

  const early = await refusal(module, p.keeper.address, m.encodeFunctionData("executeQueuedSpend", [queueId]));
  check(
    early?.startsWith("SpendingLimitModuleQueuedSpendTooEarly"),
    `execution before the delay should fail, got ${early}`,
  );
  report.add({ step: "execute at once", detail: `refused: ${early}` });

  await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(executableAt)]);
  const before2 = await hre.ethers.provider.getBalance(p.recipient.address);
  const executed = await mined(module.connect(p.keeper).executeQueuedSpend(queueId));
  check(
    (await hre.ethers.provider.getBalance(p.recipient.address)) - before2 === 2n * ONE,
    "the recipient did not get 2 ETH",
  );
  check(Number((await module.queuedSpend(queueId)).status) === 3, "the queued spend is not executed");
  report.add({ step: "executed after the 1 h delay", detail: "2 ETH sent from the Safe", ...executed });
}
