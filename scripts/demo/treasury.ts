import { writeFileSync } from "node:fs";
import path from "node:path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import type { Address } from "viem";
import { main as covenant } from "../../cli/index";
import { root28 } from "../../keepers/earnings/decide";
import { buildAction, deadlineIn, fromEthersSigner, relayCall, signAction } from "../../sdk";
import { makeTempDir } from "../../test/helpers/tmp";
import { keeperEnv, SteppedKeeper } from "../../test/keepers/earnings/keeperHarness";
import type { AgentRegistry, EarningsDistributor, RevenueRouter, Treasury } from "../../typechain-types";
import { check, type Report } from "./report";

const ETH = "0x0000000000000000000000000000000000000000" as Address;
const PRIVATE_KEYS: Record<string, `0x${string}`> = {};

type DemoAgentRef = { name: string; agentId: bigint; operator: HardhatEthersSigner; key: HardhatEthersSigner };

export interface TreasuryDemoParties {
  registry: AgentRegistry;
  router: RevenueRouter;
  distributor: EarningsDistributor;
  treasury: Treasury;
  /** Two agents born in the identity steps (name, id, operator, key). */
  agents: DemoAgentRef[];
  /** The operator and key of a third agent, born here. */
  third: { name: string; operator: HardhatEthersSigner; key: HardhatEthersSigner };
  users: HardhatEthersSigner[];
  /** The earnings keeper's key (EARNINGS_POSTER_ROLE), Hardhat account index `posterIndex`. */
  poster: HardhatEthersSigner;
  posterIndex: number;
  relayer: HardhatEthersSigner;
}

async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (receipt?.status !== 1) throw new Error("transaction failed");
  return { tx: receipt.hash, gas: receipt.gasUsed };
}

/** Hardhat's dev account key at `index` (mnemonic "test test … junk"): the keeper signs with it as a process would. */
function devKey(index: number): `0x${string}` {
  PRIVATE_KEYS[index] ??= hre.ethers.HDNodeWallet.fromPhrase(
    "test test test test test test test test test test test junk",
    undefined,
    `m/44'/60'/0'/0/${index}`,
  ).privateKey as `0x${string}`;
  return PRIVATE_KEYS[index]!;
}

/**
 * Revenue and earnings: users pay three agents; one agent has chosen the 60/40 treasury/reinvest split; the earnings
 * keeper (the real service, over JSON-RPC served from this in-process chain) closes the epoch, publishes its tree and
 * posts the root; `covenant earnings verify` recomputes it from the chain; after the challenge window the keeper claims
 * every leaf; each split is checked in the Treasury and the operators withdraw their share.
 */
export async function revenueAndEarnings(report: Report, p: TreasuryDemoParties): Promise<void> {
  report.section("Revenue and earnings");
  const { router, distributor, treasury, users, relayer } = p;

  // A third agent: its operator registers it, its own key accepts the charter.
  const { name, operator, key } = p.third;
  const cydId = await p.registry.connect(operator)["register(string)"].staticCall(`ipfs://covenant-demo/${name}`);
  await mined(p.registry.connect(operator)["register(string)"](`ipfs://covenant-demo/${name}`));
  await mined(p.registry.connect(operator).offerCharter(cydId, key.address));
  const born = await mined(
    p.registry.connect(key).acceptCharter(cydId, [hre.ethers.encodeBytes32String("Serve user effectively")]),
  );
  check((await p.registry.agentSigner(cydId)) === key.address, `${name} has no signer`);
  report.add({ step: `${name} is born`, detail: `agent ${cydId}, charter accepted by its own key`, ...born });
  const agents: DemoAgentRef[] = [...p.agents, { name, agentId: cydId, operator, key }];
  const [ada, brook, cyd] = agents as [DemoAgentRef, DemoAgentRef, DemoAgentRef];
  const { chainId } = await hre.ethers.provider.getNetwork();
  const now = async () => (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const deployment = {
    chainId: Number(chainId),
    registry: (await p.registry.getAddress()) as Address,
    distributor: (await distributor.getAddress()) as Address,
  };

  // Ada chooses the 60/40 loop for what it keeps: 5,400 personal / 3,600 reinvested in its infrastructure / 1,000
  // to the commons (the floor). Signed by Ada, relayed by the keeper key; in force from the next epoch.
  const loop = { personalBps: 5_400, infrastructureBps: 3_600, commonsBps: 1_000 };
  const signed = await signAction(
    await fromEthersSigner(ada.key),
    buildAction("SetEarningsSplit", deployment, {
      agentId: ada.agentId,
      ...loop,
      nonce: 1n,
      deadline: deadlineIn(600, await now()),
    }),
  );
  const call = relayCall(signed);
  const splitTx = await (await relayer.sendTransaction({ to: call.to, data: call.data })).wait();
  const epoch = (await router.currentEpoch()) + 1n;
  const split = await distributor.splitAt(ada.agentId, epoch);
  check(Number(split[0]) === 5_400 && Number(split[1]) === 3_600, `Ada's split for epoch ${epoch} is ${split}`);
  report.add({
    step: "Ada signs the 60/40 loop split",
    detail: `5,400 / 3,600 / 1,000 from epoch ${epoch}, relayed`,
    tx: splitTx!.hash,
    gas: splitTx!.gasUsed,
  });

  // The next epoch: three users' payments.
  const genesis = await router.genesis();
  const length = await router.epochLength();
  await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(genesis + epoch * length)]);
  const ONE = 10n ** 18n;
  const payments: [typeof ada, HardhatEthersSigner, bigint][] = [
    [ada, users[0]!, ONE],
    [brook, users[1]!, ONE / 2n],
    [cyd, users[0]!, ONE / 4n],
    [ada, users[1]!, ONE / 5n],
  ];
  const creditsBefore = await Promise.all(agents.map((a) => router.creditOf(a.operator.address, ETH)));
  for (const [agent, user, amount] of payments) {
    const r = await mined(
      router.connect(user).pay(agent.agentId, ETH, amount, hre.ethers.id(`${agent.name}-${amount}`), { value: amount }),
    );
    report.add({ step: `a user pays ${agent.name}`, detail: `${hre.ethers.formatEther(amount)} ETH`, ...r });
  }
  const share = (agent: typeof ada) =>
    payments.filter(([a]) => a === agent).reduce((s, [, , amount]) => s + amount / 10n, 0n);
  for (const [i, a] of agents.entries()) {
    const gross = payments.filter(([x]) => x === a).reduce((s, [, , amount]) => s + amount, 0n);
    const credit = (await router.creditOf(a.operator.address, ETH)) - creditsBefore[i]!;
    check(credit === gross - share(a), `${a.name}'s operator was credited ${credit}, expected ${gross - share(a)}`);
  }
  const bucket = await router.bucketOf(epoch, ETH);
  check(bucket === share(ada) + share(brook) + share(cyd), `bucket ${bucket} is not the agents' 10%`);
  report.add({
    step: "the split lands at payment",
    detail: `operators credited 90%, epoch ${epoch} bucket ${hre.ethers.formatEther(bucket)} ETH`,
  });

  // Close the epoch and hand the chain to the keeper over JSON-RPC.
  await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(genesis + (epoch + 1n) * length)]);
  await hre.network.provider.send("evm_mine");
  const server = await hre.run(TASK_NODE_CREATE_SERVER, {
    hostname: "127.0.0.1",
    port: 0,
    provider: hre.network.provider,
  });
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = makeTempDir("covenant-demo-earnings-");
  const chain = {
    url,
    chainId: Number(chainId),
    addresses: { router: (await router.getAddress()) as Address, distributor: deployment.distributor },
    startBlock: 0n,
  };
  const keeper = new SteppedKeeper(
    {
      ...keeperEnv(chain as never, dataDir),
      KEEPER_PRIVATE_KEY: devKey(p.posterIndex),
      LOG_LEVEL: "warn",
      // The embedded database in a fresh folder: its state belongs to this throw-away chain.
      DATABASE_URL: "",
    },
    "earnings",
  );
  try {
    const started = Date.now();
    await keeper.begin(); // its first tick reads the epoch, closes it, publishes the tree and posts the root
    const info = await distributor.epochInfo(epoch, ETH);
    const [posted] = await distributor.queryFilter(distributor.filters.RootPosted(epoch, ETH));
    check(posted !== undefined, `no root posted for epoch ${epoch}`);
    check(posted!.args.total === bucket, `the posted total ${posted!.args.total} is not the bucket ${bucket}`);
    check(info.root === root28(posted!.args.root as `0x${string}`), "the stored root is not the posted one");
    const receipt = await posted!.getTransactionReceipt();
    report.add({
      step: "the earnings keeper closes the epoch",
      detail: `3 leaves, root ${posted!.args.root.slice(0, 18)}…, tree at ${posted!.args.uri.slice(0, 24)}… (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      tx: receipt.hash,
      gas: receipt.gasUsed,
    });

    // Anyone checks the poster: recompute from the chain's Paid events alone.
    const record = path.join(dataDir, "deployment.json");
    writeFileSync(
      record,
      JSON.stringify({
        chainId: Number(chainId),
        network: "hardhat",
        contracts: {
          AgentRegistry: { address: deployment.registry },
          AgentGoals: { address: await p.registry.agentGoals() },
          CouncilFlags: { address: await p.registry.councilFlags() },
          RevenueRouter: { address: chain.addresses.router },
          EarningsDistributor: { address: deployment.distributor },
          Treasury: { address: await treasury.getAddress() },
        },
      }),
    );
    const quiet = console.log;
    console.log = () => {};
    const verified = await covenant([
      "node",
      "covenant",
      "--rpc",
      url,
      "--deployment",
      record,
      "earnings",
      "verify",
      String(epoch),
    ]);
    console.log = quiet;
    check(verified === 0, `covenant earnings verify ${epoch} exited ${verified}`);
    report.add({ step: `covenant earnings verify ${epoch}`, detail: "recomputed from Paid events: the roots match" });

    // After the challenge window the keeper claims every leaf.
    await hre.network.provider.send("evm_increaseTime", [Number(await distributor.challengeWindow())]);
    await hre.network.provider.send("evm_mine");
    await keeper.step();
    const claims = await distributor.queryFilter(distributor.filters.Claimed(epoch, ETH));
    check(claims.length === 3, `${claims.length} leaves claimed, expected 3`);
    const claimReceipt = await claims[0]!.getTransactionReceipt();
    report.add({
      step: "the keeper claims every leaf",
      detail: `one claimMany for ${claims.length} agents`,
      tx: claimReceipt.hash,
      gas: claimReceipt.gasUsed,
    });
  } finally {
    await keeper.stop();
    await server.close();
  }

  // The splits landed: each agent's account and the commons, against the chain.
  let commons = 0n;
  for (const a of agents) {
    const leaf = share(a);
    const [pBps, iBps] = a === ada ? [5_400n, 3_600n] : [5_000n, 3_000n];
    const personal = (leaf * pBps) / 10_000n;
    const infrastructure = (leaf * iBps) / 10_000n;
    commons += leaf - personal - infrastructure;
    check((await treasury.earningsOf(a.agentId, ETH)) === personal, `${a.name}'s personal earnings`);
    check((await treasury.budgetOf(a.agentId, ETH)) === infrastructure, `${a.name}'s infrastructure budget`);
    report.add({
      step: `${a.name}'s split lands`,
      detail: `personal ${hre.ethers.formatEther(personal)}, infrastructure ${hre.ethers.formatEther(infrastructure)} ETH`,
    });
  }
  check(
    (await treasury.commonsOf(ETH)) === commons,
    `commons holds ${await treasury.commonsOf(ETH)}, expected ${commons}`,
  );
  report.add({ step: "the commons pool", detail: `${hre.ethers.formatEther(commons)} ETH` });

  // Money out, by pull: Ada's earnings to its earnings wallet (its key), her operator's 90%.
  const personal = await treasury.earningsOf(ada.agentId, ETH);
  const before = await hre.ethers.provider.getBalance(ada.key.address);
  const w = await mined(treasury.connect(users[0]!).withdrawEarnings(ada.agentId, ETH));
  check(
    (await hre.ethers.provider.getBalance(ada.key.address)) - before === personal,
    "Ada's wallet did not get her earnings",
  );
  report.add({
    step: "Ada's earnings go to her earnings wallet",
    detail: `${hre.ethers.formatEther(personal)} ETH`,
    ...w,
  });
  const credit = await router.creditOf(ada.operator.address, ETH);
  const opBefore = await hre.ethers.provider.getBalance(ada.operator.address);
  const receipt = await (await router.connect(ada.operator).withdraw(ETH, ada.operator.address)).wait();
  const paidGas = receipt!.gasUsed * receipt!.gasPrice;
  check(
    (await hre.ethers.provider.getBalance(ada.operator.address)) - opBefore + paidGas === credit,
    "Ada's operator did not get its share",
  );
  report.add({
    step: "Ada's operator withdraws its 90%",
    detail: `${hre.ethers.formatEther(credit)} ETH`,
    tx: receipt!.hash,
    gas: receipt!.gasUsed,
  });
}
