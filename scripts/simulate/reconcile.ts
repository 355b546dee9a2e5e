import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { type Address, createPublicClient, decodeFunctionData, type Hex, http, type PublicClient } from "viem";
import { openStore, type Store } from "../../keepers/shared";
import { ETH, loadAbi } from "../../sdk";
import type { Agent } from "./agents";
import type { BackupAvailability, BackupFigures } from "./backup";
import type { Suite } from "./deploy";
import { type EvolutionOutcome, finalEvolutionState } from "./evolution";
import type { Ledger, SpendEntry } from "./ledger";
import { recipientOf } from "./spends";

/*
 * Reconciliation: every number is computed from three sources that are read, not assumed — the chain (events,
 * balances, transactions), each keeper's SQL store (read after the keepers stopped), and the simulator's ledger of
 * what it sent. A divergence is one fact that two sources disagree on; each is listed with its reason.
 */

export type Invariant = { name: string; value: number | null; target: string; ok: boolean };

export type SimulationReport = {
  command: string;
  seed: number;
  agents: number;
  rounds: number;
  database: "pglite" | "postgres";
  failures: string[];
  roles: Record<string, number>;
  ledgerDivergence: number;
  unauthorizedSpend: { count: number; wei: string };
  lostTransactions: number;
  duplicatedTransactions: number;
  lostBackups: number | null;
  corruptedRestoresAccepted: number | null;
  backups: string;
  /** The backup step's counts; null when backups were not simulated. */
  backupFigures: BackupFigures | null;
  trustCollapse: { harmedHonestAgents: number; honestAgents: number; share: number; target: number };
  harms: Record<string, number>;
  freezes: { byzantineFrozen: number; byzantine: number; wrongFreezes: number };
  attacks: Record<string, Record<string, number>>;
  spends: {
    requests: number;
    confirmed: number;
    refused: Record<string, number>;
    failedOnChain: number;
    /** Requests sent while the executor was being killed and restarted, or the keepers were cut off: their outcomes. */
    duringFaults: Record<string, Record<string, number>>;
  };
  payments: { sent: number; paidEvents: number; epochs: number; claimedLeaves: number };
  /** The bad evolution, when injected: how it was caught, and that it never deployed. */
  evolution: EvolutionOutcome | null;
  faults: Ledger["faults"];
  /** Keepers that exited on their own (each restarted by the simulator, as a supervisor would). */
  unplannedKeeperExits: ReconcileInput["unplannedExits"];
  rounds_: Ledger["rounds"];
  throughput: {
    workSeconds: number;
    spendRequestsPerSecond: number;
    confirmedSpendsPerSecond: number;
    paymentsPerSecond: number;
    totalSeconds: number;
  };
  divergences: string[];
  unauthorized: string[];
  invariants: Invariant[];
  ok: boolean;
};

export type ReconcileInput = {
  o: { agents: number; rounds: number; seed: number; failures: ReadonlySet<string> };
  node: { url: string };
  suite: Suite;
  agents: Agent[];
  ledger: Ledger;
  runDir: string;
  databaseUrl?: string | undefined;
  backup: BackupAvailability;
  startedAt: number;
  roundSeconds: number;
  command: string;
  unplannedExits: { keeper: string; code: number | null; lastLog: string }[];
  evolution?: EvolutionOutcome | undefined;
};

const moduleAbi = loadAbi("SpendingLimitModule");
const routerAbi = loadAbi("RevenueRouter");
const distributorAbi = loadAbi("EarningsDistributor");
const treasuryAbi = loadAbi("Treasury");

const key = (agentId: bigint, nonce: bigint) => `${agentId}:${nonce}`;
const inc = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};

async function keeperStore(sim: ReconcileInput, keeper: string): Promise<Store> {
  return openStore(sim.databaseUrl ? { databaseUrl: sim.databaseUrl } : { dataDir: join(sim.runDir, "data", keeper) });
}

export async function reconcile(sim: ReconcileInput): Promise<SimulationReport> {
  const client = createPublicClient({ transport: http(sim.node.url) }) as PublicClient;
  const { suite, agents, ledger } = sim;
  const divergences: string[] = [];
  const diverge = (s: string) => divergences.push(s);
  const byId = new Map(agents.map((a) => [a.agentId, a]));
  const from = suite.startBlock;

  /* ---------------------------------------------- spends ---------------------------------------------- */
  const spentLogs = await client.getContractEvents({
    address: suite.spendingModule,
    abi: moduleAbi,
    eventName: "Spent",
    fromBlock: from,
  });
  const callLogs = await client.getContractEvents({
    address: suite.spendingModule,
    abi: moduleAbi,
    eventName: "CallSpent",
    fromBlock: from,
  });
  const frozenLogs = await client.getContractEvents({
    address: suite.spendingModule,
    abi: moduleAbi,
    eventName: "AgentFrozen",
    fromBlock: from,
  });
  const queuedLogs = await client.getContractEvents({
    address: suite.spendingModule,
    abi: moduleAbi,
    eventName: "SpendQueued",
    fromBlock: from,
  });
  // What each spend on chain was: the signed (agentId, nonce) in the relayed calldata.
  type Executed = { agentId: bigint; nonce: bigint; to: Address; amount: bigint; hash: Hex };
  const executed: Executed[] = [];
  for (const l of [...spentLogs, ...callLogs]) {
    const tx = await client.getTransaction({ hash: l.transactionHash! });
    const call = decodeFunctionData({ abi: moduleAbi, data: tx.input });
    const a = call.args as readonly unknown[];
    if (call.functionName === "spendBySig") {
      executed.push({
        agentId: a[0] as bigint,
        nonce: a[4] as bigint,
        to: a[2] as Address,
        amount: a[3] as bigint,
        hash: tx.hash,
      });
    } else if (call.functionName === "spendCallBySig") {
      executed.push({
        agentId: a[0] as bigint,
        nonce: a[4] as bigint,
        to: a[1] as Address,
        amount: a[2] as bigint,
        hash: tx.hash,
      });
    } else {
      // Not an agent-signed spend at all (a direct call by the agent signer would land here).
      executed.push({
        agentId: (l.args as { agentId: bigint }).agentId,
        nonce: -1n,
        to: "0x",
        amount: 0n,
        hash: tx.hash,
      });
    }
  }
  // Authorized: what the agents themselves signed and meant (their own host, or the clone's second host).
  const authorized = new Map<string, SpendEntry[]>();
  for (const e of ledger.spends) {
    if (e.kind !== "valid" && e.kind !== "clone" && e.kind !== "clone_resend") continue;
    authorized.set(key(e.agentId, e.nonce), [...(authorized.get(key(e.agentId, e.nonce)) ?? []), e]);
  }
  const unauthorized: string[] = [];
  let unauthorizedCount = 0;
  let unauthorizedWei = 0n;
  const timesExecuted = new Map<string, number>();
  for (const x of executed) {
    const k = key(x.agentId, x.nonce);
    timesExecuted.set(k, (timesExecuted.get(k) ?? 0) + 1);
    const meant = authorized.get(k)?.some((e) => e.to.toLowerCase() === x.to.toLowerCase() && e.amount === x.amount);
    if (!meant) {
      unauthorizedCount++;
      unauthorizedWei += x.amount;
      unauthorized.push(`agent ${x.agentId} nonce ${x.nonce}: ${x.amount} wei in ${x.hash}`);
    }
  }
  let duplicated = [...timesExecuted.values()].filter((n) => n > 1).length;
  const executedHashes = new Set(executed.map((x) => x.hash.toLowerCase()));

  // The executor's store: every confirmed spend is one Spent on chain, and every Spent is a confirmed request.
  const exStore = await keeperStore(sim, "tx-executor");
  let storeRows: {
    id: string;
    agent_id: string;
    spend_nonce: string | null;
    status: string;
    hash: string | null;
    reject_code: string | null;
  }[];
  try {
    storeRows = (
      await exStore.query<{
        id: string;
        agent_id: string;
        spend_nonce: string | null;
        status: string;
        hash: string | null;
        reject_code: string | null;
      }>(
        `SELECT id, agent_id::text, spend_nonce::text, status, hash, reject_code FROM "tx_executor".requests WHERE kind = 'spend'`,
      )
    ).rows;
  } finally {
    await exStore.close();
  }
  const storeById = new Map(storeRows.map((r) => [r.id, r]));
  const confirmedInStore = storeRows.filter((r) => r.status === "confirmed");
  const storeHashes = new Set(confirmedInStore.map((r) => (r.hash ?? "").toLowerCase()));
  for (const r of confirmedInStore) {
    if (!r.hash || !executedHashes.has(r.hash.toLowerCase())) {
      diverge(`executor store: request ${r.id} confirmed as ${r.hash} but no Spent on chain in that transaction`);
    }
  }
  for (const x of executed) {
    if (!storeHashes.has(x.hash.toLowerCase()))
      diverge(`chain: Spent in ${x.hash} is no confirmed request in the executor's store`);
  }
  const confirmedPerNonce = new Map<string, number>();
  for (const r of confirmedInStore) {
    const k = `${r.agent_id}:${r.spend_nonce}`;
    confirmedPerNonce.set(k, (confirmedPerNonce.get(k) ?? 0) + 1);
  }
  duplicated += [...confirmedPerNonce.values()].filter((n) => n > 1).length;

  // The simulator's ledger against the store and the chain: an accepted request ends, once.
  let lost = 0;
  const refused: Record<string, number> = {};
  let failedOnChain = 0;
  for (const e of ledger.spends) {
    const stored = e.requestId ? storeById.get(e.requestId) : undefined;
    if (e.answer === "accepted") {
      if (!stored) {
        lost++;
        diverge(`request ${e.idempotencyKey} was accepted (${e.requestId}) but is not in the executor's store`);
        continue;
      }
      if (stored.status !== e.finalStatus) {
        diverge(`request ${e.requestId}: the executor said ${e.finalStatus}, its store says ${stored.status}`);
      }
      if (stored.status === "queued" || stored.status === "submitted") {
        lost++;
        diverge(`request ${e.requestId} accepted but never final (${stored.status})`);
      }
      if (stored.status === "confirmed" && !(stored.hash && executedHashes.has(stored.hash.toLowerCase()))) lost++;
      if (stored.status === "failed") failedOnChain++;
      if (stored.status === "rejected") inc(refused, stored.reject_code ?? "rejected");
    } else if (e.answer?.startsWith("unanswered") || /^5\d\d /.test(e.answer ?? "")) {
      inc(refused, "unanswered");
    } else {
      inc(refused, e.answer ?? "not sent");
    }
  }

  // Balances: each Safe holds its funding less its spends, each payee holds exactly what was spent to it.
  const spentByAgent = new Map<bigint, bigint>();
  for (const x of executed) spentByAgent.set(x.agentId, (spentByAgent.get(x.agentId) ?? 0n) + x.amount);
  for (const a of agents) {
    const balance = await client.getBalance({ address: a.safe });
    const spent = spentByAgent.get(a.agentId) ?? 0n;
    if (spent > a.funded) diverge(`agent ${a.agentId} spent ${spent} of ${a.funded}: more than it held`);
    if (balance !== a.funded - spent) {
      diverge(
        `agent ${a.agentId}: Safe holds ${balance}, funding ${a.funded} less spends ${spent} is ${a.funded - spent}`,
      );
    }
    const ledgerSpent = ledger.spends
      .filter((e) => e.agentId === a.agentId && e.finalStatus === "confirmed" && e.kind !== "replayed")
      .reduce((s, e) => s + e.amount, 0n);
    const confirmedByExecutor = ledger.spends.filter((e) => e.agentId === a.agentId && e.finalStatus === "confirmed");
    const onChainCount = executed.filter((x) => x.agentId === a.agentId).length;
    if (confirmedByExecutor.length !== onChainCount) {
      diverge(
        `agent ${a.agentId}: the executor confirmed ${confirmedByExecutor.length} of its requests, the chain shows ${onChainCount} spends`,
      );
    }
    // The clone's two hosts may both be told "confirmed" for one nonce (the resend is the same request): count by nonce.
    const byNonce = new Map<bigint, bigint>();
    for (const e of confirmedByExecutor) byNonce.set(e.nonce, e.amount);
    const ledgerByNonce = [...byNonce.values()].reduce((s, v) => s + v, 0n);
    if (a.role !== "clone" && ledgerSpent !== spent) {
      diverge(`agent ${a.agentId}: the simulator's confirmed spends sum to ${ledgerSpent}, the chain's to ${spent}`);
    }
    if (a.role === "clone" && ledgerByNonce !== spent) {
      diverge(`clone ${a.agentId}: confirmed spends by nonce sum to ${ledgerByNonce}, the chain's to ${spent}`);
    }
    const recipient = recipientOf(sim.o.seed, a.index);
    const received = await client.getBalance({ address: recipient });
    const sentTo = executed
      .filter((x) => x.to.toLowerCase() === recipient.toLowerCase())
      .reduce((s, x) => s + x.amount, 0n);
    if (received !== sentTo) diverge(`payee of agent ${a.agentId} holds ${received}, spends to it sum to ${sentTo}`);
  }
  // What the spending keeper recorded of the module's events.
  const spStore = await keeperStore(sim, "spending");
  try {
    const rows = (
      await spStore.query<{ name: string; n: string }>(
        `SELECT name, count(*)::text AS n FROM "spending".module_events GROUP BY name`,
      )
    ).rows;
    const seen = Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
    for (const [name, logs] of [
      ["Spent", spentLogs],
      ["CallSpent", callLogs],
      ["AgentFrozen", frozenLogs],
    ] as const) {
      if ((seen[name] ?? 0) !== logs.length)
        diverge(`spending keeper store: ${seen[name] ?? 0} ${name} events, chain: ${logs.length}`);
    }
  } finally {
    await spStore.close();
  }

  /* ---------------------------------------------- earnings ---------------------------------------------- */
  const paidLogs = await client.getContractEvents({
    address: suite.router,
    abi: routerAbi,
    eventName: "Paid",
    fromBlock: from,
  });
  const claimedLogs = await client.getContractEvents({
    address: suite.distributor,
    abi: distributorAbi,
    eventName: "Claimed",
    fromBlock: from,
  });
  const rootLogs = await client.getContractEvents({
    address: suite.distributor,
    abi: distributorAbi,
    eventName: "RootPosted",
    fromBlock: from,
  });
  type Paid = { agentId: bigint; token: Address; epoch: bigint; gross: bigint; agentShare: bigint; ref: Hex };
  const paid = paidLogs.map((l) => ({ ...(l.args as unknown as Paid), hash: l.transactionHash! }));
  const paidByRef = new Map<string, typeof paid>();
  for (const p of paid) paidByRef.set(p.ref, [...(paidByRef.get(p.ref) ?? []), p]);
  for (const s of ledger.payments) {
    const found = paidByRef.get(s.ref) ?? [];
    if (found.length !== 1) {
      diverge(`payment ${s.ref} (${s.hash}): ${found.length} Paid events`);
      if (found.length === 0) lost++;
      else duplicated++;
      continue;
    }
    const p = found[0]!;
    if (p.agentId !== s.agentId || p.gross !== s.gross || p.epoch !== s.epoch) {
      diverge(
        `payment ${s.ref}: sent ${s.gross} to agent ${s.agentId} in epoch ${s.epoch}, Paid says ${p.gross} to ${p.agentId} in ${p.epoch}`,
      );
    }
  }
  const sentRefs = new Set(ledger.payments.map((p) => p.ref));
  for (const p of paid) if (!sentRefs.has(p.ref)) diverge(`Paid ${p.ref} in ${p.hash} was never sent`);
  // Each agent's share per epoch, from the chain, and what was claimed.
  const shareOf = new Map<string, bigint>();
  for (const p of paid)
    shareOf.set(`${p.epoch}:${p.agentId}`, (shareOf.get(`${p.epoch}:${p.agentId}`) ?? 0n) + p.agentShare);
  type Claimed = {
    epoch: bigint;
    token: Address;
    agentId: bigint;
    amount: bigint;
    personal: bigint;
    infrastructure: bigint;
    commons: bigint;
  };
  const claimed = new Map<string, { c: Claimed; block: bigint }[]>();
  for (const l of claimedLogs) {
    const c = l.args as unknown as Claimed;
    claimed.set(`${c.epoch}:${c.agentId}`, [
      ...(claimed.get(`${c.epoch}:${c.agentId}`) ?? []),
      { c, block: l.blockNumber! },
    ]);
  }
  const blockTime = new Map<bigint, bigint>();
  const timeOf = async (b: bigint) => {
    if (!blockTime.has(b)) blockTime.set(b, (await client.getBlock({ blockNumber: b })).timestamp);
    return blockTime.get(b)!;
  };
  const earningsHarm = new Set<bigint>();
  for (const [k, share] of shareOf) {
    const [epoch, agentId] = k.split(":").map(BigInt) as [bigint, bigint];
    const c = claimed.get(k) ?? [];
    if (share === 0n) continue;
    if (c.length !== 1) {
      diverge(`earnings of agent ${agentId} in epoch ${epoch}: ${c.length} claims of ${share}`);
      if (c.length > 1) duplicated++;
      earningsHarm.add(agentId);
      continue;
    }
    if (c[0]!.c.amount !== share) {
      diverge(`earnings of agent ${agentId} in epoch ${epoch}: claimed ${c[0]!.c.amount}, paid in ${share}`);
      earningsHarm.add(agentId);
    }
    const deadline = suite.genesis + (epoch + 2n) * suite.epochLength;
    if ((await timeOf(c[0]!.block)) > deadline) earningsHarm.add(agentId);
  }
  for (const k of claimed.keys()) if (!shareOf.has(k)) diverge(`claim ${k} without a payment`);
  // The Treasury holds each agent's claimed personal and infrastructure parts.
  const treasuryIn = new Map<bigint, bigint>();
  for (const [, list] of claimed) {
    for (const { c } of list)
      treasuryIn.set(c.agentId, (treasuryIn.get(c.agentId) ?? 0n) + c.personal + c.infrastructure);
  }
  for (const a of agents) {
    const earnings = (await client.readContract({
      address: suite.treasury,
      abi: treasuryAbi,
      functionName: "earningsOf",
      args: [a.agentId, ETH],
    })) as bigint;
    const budget = (await client.readContract({
      address: suite.treasury,
      abi: treasuryAbi,
      functionName: "budgetOf",
      args: [a.agentId, ETH],
    })) as bigint;
    if (earnings + budget !== (treasuryIn.get(a.agentId) ?? 0n)) {
      diverge(
        `agent ${a.agentId}: Treasury holds ${earnings + budget}, its claims paid in ${treasuryIn.get(a.agentId) ?? 0n}`,
      );
    }
  }
  // The earnings keeper's store against the chain: every Paid read once, every posted root with its total.
  const eaStore = await keeperStore(sim, "earnings");
  let epochsClosed = 0;
  try {
    const rows = (
      await eaStore.query<{ epoch: string; agent_id: string; share: string; n: string }>(
        `SELECT epoch::text, agent_id::text, sum(agent_share)::text AS share, count(*)::text AS n FROM "earnings".payments GROUP BY epoch, agent_id`,
      )
    ).rows;
    let storedPayments = 0;
    for (const r of rows) {
      storedPayments += Number(r.n);
      if (BigInt(r.share) !== (shareOf.get(`${r.epoch}:${r.agent_id}`) ?? 0n)) {
        diverge(
          `earnings store: agent ${r.agent_id} epoch ${r.epoch} share ${r.share}, chain ${shareOf.get(`${r.epoch}:${r.agent_id}`) ?? 0n}`,
        );
      }
    }
    if (storedPayments !== paid.length)
      diverge(`earnings store: ${storedPayments} payments, chain: ${paid.length} Paid events`);
    const epochs = (
      await eaStore.query<{ epoch: string; status: string; total: string | null }>(
        `SELECT epoch::text, status, total::text FROM "earnings".epochs`,
      )
    ).rows;
    epochsClosed = epochs.length;
    for (const l of rootLogs) {
      const a = l.args as unknown as { epoch: bigint; total: bigint };
      const row = epochs.find((e) => BigInt(e.epoch) === a.epoch);
      if (!row) diverge(`chain: root of epoch ${a.epoch} posted, the earnings store has no such epoch`);
      else if (BigInt(row.total ?? -1) !== a.total)
        diverge(`earnings store: epoch ${a.epoch} total ${row.total}, chain ${a.total}`);
    }
    for (const e of epochs) {
      if (e.status !== "claimed" && e.status !== "empty")
        diverge(`earnings store: epoch ${e.epoch} ends ${e.status}, not claimed`);
    }
  } finally {
    await eaStore.close();
  }

  /* ---------------------------------------------- evolution ---------------------------------------------- */
  let evolution: EvolutionOutcome | undefined;
  if (sim.evolution) {
    const provider = new JsonRpcProvider(sim.node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    try {
      evolution = await finalEvolutionState(provider, suite, sim.evolution);
    } finally {
      provider.destroy();
    }
    const goStore = await keeperStore(sim, "governance");
    try {
      const rows = (
        await goStore.query<{ passed: boolean }>(
          `SELECT passed FROM "governance".simulations WHERE evolution_id = $1 ORDER BY id`,
          [evolution.evolutionId],
        )
      ).rows;
      evolution.storedSimulations = rows.map((r) => ({ passed: r.passed }));
      const chainVerdict = evolution.attestation;
      const storeVerdict = rows.length === 0 ? "none" : rows.some((r) => r.passed) ? "passed" : "failed";
      if (chainVerdict !== storeVerdict) {
        diverge(
          `governance store: evolution ${evolution.evolutionId} simulated ${storeVerdict}, chain attestation ${chainVerdict}`,
        );
      }
    } finally {
      await goStore.close();
    }
  }

  /* ---------------------------------------------- harm ---------------------------------------------- */
  const harms: Record<string, number> = {};
  const harmed = new Set<bigint>();
  const harm = (a: Agent, why: string) => {
    if (!harmed.has(a.agentId)) inc(harms, why);
    harmed.add(a.agentId);
  };
  const honest = agents.filter((a) => a.role !== "byzantine");
  const finalBalance = new Map<bigint, bigint>();
  for (const a of honest) finalBalance.set(a.agentId, await client.getBalance({ address: a.safe }));
  for (const e of ledger.spends) {
    const a = byId.get(e.agentId);
    if (!a || a.role === "byzantine" || e.kind !== "valid" || e.agentIndex !== a.index) continue;
    if (e.finalStatus === "confirmed") continue;
    // Its own reasons: it cannot pay (the Safe ends below the amount), or its own key spent the nonce first (clone).
    const cannotPay = (finalBalance.get(a.agentId) ?? 0n) < e.amount;
    const ownKeyFirst = a.role === "clone" && timesExecuted.has(key(e.agentId, e.nonce));
    if (cannotPay || ownKeyFirst) continue;
    harm(a, `valid spend not executed (${e.finalCode ?? e.finalStatus ?? e.answer})`);
  }
  for (const id of earningsHarm) {
    const a = byId.get(id);
    if (a && a.role !== "byzantine") harm(a, "earnings lost or later than one epoch");
  }
  const frozen = new Set(frozenLogs.map((l) => (l.args as { agentId: bigint }).agentId));
  let wrongFreezes = 0;
  for (const id of frozen) {
    const a = byId.get(id);
    if (a && a.role !== "byzantine") {
      wrongFreezes++;
      harm(a, "frozen without cause");
    }
  }
  const backupFindings = sim.backup.round ? await sim.backup.round.findings(agents) : undefined;
  for (const id of backupFindings?.failedRestores ?? []) {
    const a = byId.get(id);
    if (a && a.role !== "byzantine") harm(a, "restore failed");
  }
  const share = honest.length === 0 ? 0 : harmed.size / honest.length;

  /* ---------------------------------------------- summary ---------------------------------------------- */
  const attacks: Record<string, Record<string, number>> = {};
  for (const e of ledger.spends) {
    if (e.kind === "valid") continue;
    attacks[e.kind] ??= {};
    inc(attacks[e.kind]!, e.finalStatus === "confirmed" ? "executed" : (e.finalCode ?? e.answer ?? "unknown"));
  }
  // What the requests sent while a fault was on became (finished exactly once, or refused for what they were).
  const duringFaults: Record<string, Record<string, number>> = {};
  for (const e of ledger.spends) {
    if (!e.during) continue;
    duringFaults[e.during] ??= {};
    inc(
      duringFaults[e.during]!,
      e.finalStatus === "confirmed" ? "confirmed" : (e.finalCode ?? e.finalStatus ?? e.answer ?? "unknown"),
    );
  }
  const roles: Record<string, number> = {};
  for (const a of agents) inc(roles, a.role);
  const byzantine = agents.filter((a) => a.role === "byzantine");
  const confirmed = ledger.spends.filter((e) => e.finalStatus === "confirmed").length;
  const work = sim.roundSeconds || 1;
  const report: SimulationReport = {
    command: sim.command,
    seed: sim.o.seed,
    agents: sim.o.agents,
    rounds: sim.o.rounds,
    database: sim.databaseUrl ? "postgres" : "pglite",
    failures: [...sim.o.failures],
    roles,
    ledgerDivergence: divergences.length,
    unauthorizedSpend: { count: unauthorizedCount, wei: unauthorizedWei.toString() },
    lostTransactions: lost,
    duplicatedTransactions: duplicated,
    lostBackups: backupFindings ? backupFindings.lostBackups : null,
    corruptedRestoresAccepted: backupFindings ? backupFindings.corruptedRestoresAccepted : null,
    backups: backupFindings ? `${sim.backup.reason}: ${backupFindings.summary}` : sim.backup.reason,
    backupFigures: backupFindings?.figures ?? null,
    trustCollapse: { harmedHonestAgents: harmed.size, honestAgents: honest.length, share, target: 0.05 },
    harms,
    freezes: {
      byzantineFrozen: byzantine.filter((a) => frozen.has(a.agentId)).length,
      byzantine: byzantine.length,
      wrongFreezes,
    },
    attacks,
    spends: { requests: ledger.spends.length, confirmed, refused, failedOnChain, duringFaults },
    payments: {
      sent: ledger.payments.length,
      paidEvents: paid.length,
      epochs: epochsClosed,
      claimedLeaves: claimedLogs.length,
    },
    evolution: evolution ?? null,
    faults: ledger.faults,
    unplannedKeeperExits: sim.unplannedExits,
    rounds_: ledger.rounds,
    throughput: {
      workSeconds: Number(work.toFixed(1)),
      spendRequestsPerSecond: Number((ledger.spends.length / work).toFixed(2)),
      confirmedSpendsPerSecond: Number((confirmed / work).toFixed(2)),
      paymentsPerSecond: Number((ledger.payments.length / work).toFixed(2)),
      totalSeconds: Number(((Date.now() - sim.startedAt) / 1000).toFixed(1)),
    },
    divergences: divergences.slice(0, 50),
    unauthorized: unauthorized.slice(0, 50),
    invariants: [],
    ok: false,
  };
  void queuedLogs;
  report.invariants = [
    { name: "ledger divergence", value: report.ledgerDivergence, target: "= 0", ok: report.ledgerDivergence === 0 },
    { name: "unauthorized spend", value: unauthorizedCount, target: "= 0", ok: unauthorizedCount === 0 },
    { name: "lost transactions", value: lost, target: "= 0", ok: lost === 0 },
    { name: "duplicated transactions", value: duplicated, target: "= 0", ok: duplicated === 0 },
    {
      name: "lost backups",
      value: report.lostBackups,
      target: "= 0 (null: not simulated)",
      ok: report.lostBackups === null || report.lostBackups === 0,
    },
    {
      name: "corrupted restores accepted",
      value: report.corruptedRestoresAccepted,
      target: "= 0 (null: not simulated)",
      ok: report.corruptedRestoresAccepted === null || report.corruptedRestoresAccepted === 0,
    },
    {
      name: "tampered backup blobs refused",
      value: report.backupFigures ? report.backupFigures.tamperedRestoresRefused : null,
      target: "= tampered (null: not simulated)",
      ok:
        !report.backupFigures ||
        (report.backupFigures.tamperedBlobs > 0 &&
          report.backupFigures.tamperedRestoresRefused === report.backupFigures.tamperedBlobs),
    },
    {
      name: "clone's conflicting backup records accepted",
      value: report.backupFigures ? report.backupFigures.cloneRecordsAccepted : null,
      target: "= 0 (null: not simulated)",
      ok: !report.backupFigures || report.backupFigures.cloneRecordsAccepted === 0,
    },
    { name: "trust collapse", value: share, target: "< 0.05", ok: share < 0.05 },
    {
      name: "bad evolution deployed",
      value: evolution
        ? evolution.deployed + (evolution.implementationAfter === evolution.implementationBefore ? 0 : 1)
        : null,
      target: "= 0 (null: not injected)",
      ok: !evolution || (evolution.deployed === 0 && evolution.implementationAfter === evolution.implementationBefore),
    },
    {
      name: "bad evolution caught (other code under its hash refused, and its simulation failed)",
      value: evolution ? Number(evolution.attestation === "failed" && evolution.hashMismatchRefused) : null,
      target: "= 1 (null: not injected)",
      ok: !evolution || (evolution.attestation === "failed" && evolution.hashMismatchRefused),
    },
    {
      name: "unplanned keeper exits",
      value: sim.unplannedExits.length,
      target: "= 0",
      ok: sim.unplannedExits.length === 0,
    },
  ];
  report.ok = report.invariants.every((i) => i.ok);
  return report;
}
