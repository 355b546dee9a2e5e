import {
  type Abi,
  type Address,
  type Chain,
  encodeFunctionData,
  getAddress,
  type Hex,
  type PublicClient,
  type Transport,
  toFunctionSelector,
} from "viem";
import {
  EVOLUTION_STATUSES,
  evolutionActions,
  PROPOSAL_STATES,
  type ProposalActions,
  type ProposalStateName,
} from "../../sdk/governance";
import {
  ConfigError,
  type Confirmations,
  isTerminal,
  type Logger,
  LogScanner,
  type Metrics,
  type ScanOptions,
  type Store,
  type Submitter,
  type TxRecord,
  throwIfAborted,
  withContext,
} from "../shared";
import { abiOf as defaultAbiOf, errorAbi as defaultErrorAbi } from "./contracts";
import { type ActionStatus, decide, type EvolutionView, type Intent, keys } from "./decide";
import { type Invariant, invariants as registeredInvariants } from "./invariants";
import type { ReportStore } from "./reports";
import { type SimulationReport, simulateEvolution } from "./simulate";
import { GovernanceTables } from "./state";

/*
 * One tick of the governance keeper: scan new proposals and evolutions, read every open one's state from the chain
 * (logging and counting each change), decide, then act: queue, execute, simulate and attest, each transaction under
 * its idempotency key through the Submitter.
 */

export interface WorkerOptions {
  client: PublicClient<Transport, Chain>;
  submitter: Submitter & { recover?: () => Promise<unknown> };
  store: Store;
  /** The keeper's schema and its shared schema (from BaseService.openStore). */
  schema: string;
  sharedSchema: string;
  logger: Logger;
  metrics: Metrics;
  chainId: number;
  governor: Address;
  /** The keeper's own address: the sender of its transactions and the simulator. */
  account: Address;
  startBlock: bigint;
  confirmations: Confirmations;
  reorgDepth: number;
  chunkBlocks: number;
  execute: boolean;
  simulate: boolean;
  resimulateDistance: number;
  forkUrl: string;
  reports: ReportStore;
  /** Addresses from the deployment record, for the invariants; the governance contracts are discovered. */
  addresses?: Record<string, Address>;
  txWaitMs: number;
  invariants?: readonly Invariant[];
  abiOf?: (contractName: string) => Abi;
  errorAbi?: Abi;
}

export interface StepSummary {
  head: bigint;
  transitions: { proposalId: bigint; from: ProposalStateName; to: ProposalStateName }[];
  intents: Intent[];
  outcomes: { key: string; status: ActionStatus; revertReason?: string }[];
  simulations: { evolutionId: bigint; passed: boolean; cid: string }[];
}

const DEPLOY_EVOLUTION = toFunctionSelector("deployEvolution(uint256)");
const FINAL_EVOLUTIONS = new Set(["RolledBack", "Rejected"]);

export class GovernanceWorker {
  readonly o: WorkerOptions;
  private readonly abiOf: (contractName: string) => Abi;
  private readonly errorAbi: Abi;
  private tables!: GovernanceTables;
  private scanner!: { scan(options?: ScanOptions): Promise<unknown> };
  /** Discovered: timelock, registry, votes, agent registry. */
  addresses: Record<string, Address> = {};
  private readonly m: {
    transitions: ReturnType<Metrics["counter"]>;
    proposals: ReturnType<Metrics["gauge"]>;
    evolutions: ReturnType<Metrics["gauge"]>;
    actions: ReturnType<Metrics["counter"]>;
    simulations: ReturnType<Metrics["counter"]>;
    simulationSeconds: ReturnType<Metrics["histogram"]>;
  };

  constructor(options: WorkerOptions) {
    this.o = options;
    this.abiOf = options.abiOf ?? defaultAbiOf;
    this.errorAbi = options.errorAbi ?? defaultErrorAbi();
    const m = options.metrics;
    this.m = {
      transitions: m.counter("proposal_state_changes_total", "Proposal state changes observed, by new state", [
        "state",
      ]),
      proposals: m.gauge("proposals", "Proposals known to the keeper, by state", ["state"]),
      evolutions: m.gauge("evolutions", "Evolutions known to the keeper, by status", ["status"]),
      actions: m.counter("actions_total", "Transactions decided, by kind and outcome", ["kind", "result"]),
      simulations: m.counter("simulations_total", "Evolution simulations, by result", ["result"]),
      simulationSeconds: m.histogram(
        "simulation_duration_seconds",
        "Time to fork, run and check a simulation",
        [],
        [0.5, 1, 2, 5, 10, 30, 60, 120],
      ),
    };
  }

  /** Reads the governance contracts' addresses from the governor and checks the keeper's settings against them. */
  async init(): Promise<void> {
    const { client, governor } = this.o;
    const governorAbi = this.abiOf("CovenantGovernor");
    const read = (address: Address, abi: Abi, functionName: string, args: unknown[] = []) =>
      client.readContract({ address, abi, functionName, args }) as Promise<unknown>;
    const timelock = getAddress((await read(governor, governorAbi, "timelock")) as Address);
    const registry = getAddress((await read(governor, governorAbi, "evolutionRegistry")) as Address);
    const votes = getAddress((await read(governor, governorAbi, "votesContract")) as Address);
    const agentRegistry = getAddress((await read(votes, this.abiOf("CovenantVotes"), "registry")) as Address);
    this.addresses = {
      ...(this.o.addresses ?? {}),
      CovenantGovernor: getAddress(governor),
      CovenantTimelock: timelock,
      EvolutionRegistry: registry,
      CovenantVotes: votes,
      AgentRegistry: agentRegistry,
    };
    const [, executionWindow] = (await read(registry, this.abiOf("EvolutionRegistry"), "windows")) as [bigint, bigint];
    if (this.o.simulate && BigInt(this.o.resimulateDistance) >= executionWindow) {
      throw new ConfigError([
        {
          variable: "RESIMULATE_DISTANCE",
          message: `is ${this.o.resimulateDistance} but the registry's execution window is ${executionWindow} blocks: an attestation must be renewed before it expires`,
        },
      ]);
    }
    this.tables = new GovernanceTables(this.o.schema, this.o.chainId, getAddress(governor), registry);
    const common = {
      store: this.o.store,
      schema: this.o.sharedSchema,
      client,
      startBlock: this.o.startBlock,
      chunkBlocks: this.o.chunkBlocks,
      confirmations: this.o.confirmations,
      reorgDepth: this.o.reorgDepth,
      logger: this.o.logger,
      metrics: this.o.metrics,
    };
    // One scanner for both contracts: one cursor, and the shared scanner's metrics registered once per keeper.
    const events = [...governorAbi, ...this.abiOf("EvolutionRegistry")].filter(
      (item) => item.type === "event" && (item.name === "ProposalCreated" || item.name === "EvolutionProposed"),
    );
    this.scanner = new LogScanner({
      ...common,
      name: `governance:${governor.toLowerCase()}`,
      address: [getAddress(governor), registry],
      abi: events,
      handler: {
        onLogs: async ({ logs }, tx) => {
          for (const log of logs) {
            if (log.eventName === "ProposalCreated" && getAddress(log.address) === getAddress(governor)) {
              const a = log.args as unknown as {
                proposalId: bigint;
                proposer: Address;
                targets: Address[];
                values: bigint[];
                calldatas: Hex[];
                description: string;
              };
              await this.tables.insertProposal(tx, {
                proposalId: a.proposalId,
                proposer: a.proposer,
                description: a.description,
                targets: a.targets,
                values: a.values,
                calldatas: a.calldatas,
                evolutionIds: a.targets.flatMap((t, i) =>
                  getAddress(t) === registry && a.calldatas[i]!.slice(0, 10) === DEPLOY_EVOLUTION
                    ? [BigInt(`0x${a.calldatas[i]!.slice(10, 74)}`)]
                    : [],
                ),
                createdBlock: log.blockNumber,
                createdTx: log.transactionHash,
              });
            } else if (log.eventName === "EvolutionProposed" && getAddress(log.address) === registry) {
              const a = log.args as unknown as {
                evolutionId: bigint;
                proposer: Address;
                initCodeHash: Hex;
                riskScore: number;
                target: Address;
                specURI: string;
              };
              await this.tables.insertEvolution(tx, {
                evolutionId: a.evolutionId,
                proposer: a.proposer,
                initCodeHash: a.initCodeHash,
                riskScore: Number(a.riskScore),
                target: a.target,
                specUri: a.specURI,
                proposedBlock: log.blockNumber,
              });
            }
          }
        },
        onRollback: async (fromBlock, tx) => {
          await this.tables.rollbackProposals(tx, fromBlock);
          await this.tables.rollbackEvolutions(tx, fromBlock);
        },
      },
    });
  }

  get table(): GovernanceTables {
    return this.tables;
  }

  /** One tick. */
  async step(signal?: AbortSignal): Promise<StepSummary> {
    const { client, store } = this.o;
    await this.o.submitter.recover?.();
    await this.refreshActions();
    await this.scanner.scan({ maxChunks: 50, signal });
    throwIfAborted(signal);

    const headBlock = await client.getBlock({ blockTag: "latest" });
    const head = headBlock.number;
    const summary: StepSummary = { head, transitions: [], intents: [], outcomes: [], simulations: [] };
    const proposals = await this.refreshProposals(head, summary);
    const evolutions = await this.refreshEvolutions();
    const depth =
      this.o.confirmations === "finalized"
        ? head - (await client.getBlock({ blockTag: "finalized" })).number
        : BigInt(this.o.confirmations);

    const intents = decide({
      chainId: this.o.chainId,
      governor: this.addresses.CovenantGovernor!,
      registry: this.addresses.EvolutionRegistry!,
      head,
      now: headBlock.timestamp,
      confirmations: depth,
      resimulateDistance: BigInt(this.o.resimulateDistance),
      simulate: this.o.simulate,
      execute: this.o.execute,
      proposals,
      evolutions,
      actions: await this.tables.actions(store),
    });
    summary.intents = intents;
    for (const intent of intents) {
      throwIfAborted(signal);
      if (intent.kind === "simulate") await this.simulateAndAttest(intent, summary);
      else await this.sendGovernorCall(intent, summary);
    }
    return summary;
  }

  /* ------------------------------------------------------------------------------------------ */

  private async refreshProposals(head: bigint, summary: StepSummary) {
    const { client, store, logger } = this.o;
    const governor = this.addresses.CovenantGovernor!;
    const abi = this.abiOf("CovenantGovernor");
    const open = await this.tables.openProposals(store);
    const out = [];
    for (const p of open) {
      const state =
        PROPOSAL_STATES[
          Number(await client.readContract({ address: governor, abi, functionName: "state", args: [p.id] }))
        ]!;
      const eta = (await client.readContract({
        address: governor,
        abi,
        functionName: "proposalEta",
        args: [p.id],
      })) as bigint;
      const { changed, from } = await this.tables.setProposalState(store, p.id, state, eta, head);
      if (changed) {
        summary.transitions.push({ proposalId: p.id, from, to: state });
        this.m.transitions.inc({ state });
        withContext(logger, { proposalId: p.id.toString() }).info(
          { from, to: state, eta: eta.toString(), block: head.toString() },
          "proposal state changed",
        );
      }
      out.push({ ...p, state, eta });
    }
    this.m.proposals.reset();
    for (const [state, n] of await this.tables.stateCounts(store)) this.m.proposals.set({ state }, n);
    return out;
  }

  private async refreshEvolutions(): Promise<EvolutionView[]> {
    const { client, store, logger } = this.o;
    const registry = this.addresses.EvolutionRegistry!;
    const abi = this.abiOf("EvolutionRegistry");
    const views: EvolutionView[] = [];
    for (const row of await this.tables.openEvolutions(store)) {
      const e = (await client.readContract({
        address: registry,
        abi,
        functionName: "getEvolution",
        args: [row.evolutionId],
      })) as { status: number; stagedBlock: bigint; governanceProposalId: bigint; target: Address };
      const a = (await client.readContract({
        address: registry,
        abi,
        functionName: "latestAttestation",
        args: [row.evolutionId],
      })) as { forkBlock: bigint };
      const status = EVOLUTION_STATUSES[Number(e.status)]!;
      const view: EvolutionView = {
        id: row.evolutionId,
        status,
        staged: e.stagedBlock !== 0n,
        stagedBlock: e.stagedBlock,
        attestedForkBlock: a.forkBlock,
        linkedProposalId: e.governanceProposalId === 0n ? undefined : e.governanceProposalId,
        target: e.target,
      };
      if (await this.tables.updateEvolution(store, view)) {
        withContext(logger, { evolutionId: row.evolutionId.toString() }).info(
          { status, attestedForkBlock: a.forkBlock.toString() },
          "evolution updated",
        );
      }
      if (!FINAL_EVOLUTIONS.has(status)) views.push(view);
    }
    this.m.evolutions.reset();
    for (const [status, n] of await this.tables.evolutionStatusCounts(store)) this.m.evolutions.set({ status }, n);
    return views;
  }

  /** Brings the outcome of transactions sent by earlier ticks into the actions table. */
  private async refreshActions(): Promise<void> {
    for (const a of await this.tables.openActions(this.o.store)) {
      const record = await this.o.submitter.get(a.txId);
      if (record && isTerminal(record.status)) {
        await this.noteOutcome(a.kind, a.key, record, await this.tables.action(this.o.store, a.key));
      }
    }
  }

  private async sendGovernorCall(intent: Extract<Intent, { kind: "queue" | "execute" }>, summary: StepSummary) {
    const functionName = intent.kind === "queue" ? "queue" : "execute";
    const data = encodeFunctionData({
      abi: this.abiOf("CovenantGovernor"),
      functionName,
      args: [intent.proposalId],
    });
    const label = `${functionName} proposal ${intent.proposalId}`;
    const record = await this.submit(
      { key: intent.key, to: this.addresses.CovenantGovernor!, data, label },
      intent.kind,
      { proposalId: intent.proposalId },
    );
    summary.outcomes.push({ key: intent.key, status: record.status, revertReason: record.revertReason });
  }

  private async simulateAndAttest(intent: Extract<Intent, { kind: "simulate" }>, summary: StepSummary) {
    const { client, store, logger } = this.o;
    const log = withContext(logger, { evolutionId: intent.evolutionId.toString() });
    const registry = this.addresses.EvolutionRegistry!;
    const registryAbi = this.abiOf("EvolutionRegistry");
    const e = (await client.readContract({
      address: registry,
      abi: registryAbi,
      functionName: "getEvolution",
      args: [intent.evolutionId],
    })) as { initCodeHash: Hex; target: Address };
    const actions =
      intent.proposalId === undefined
        ? evolutionActions({
            registry,
            evolutionId: intent.evolutionId,
            target: e.target,
            predicted: (await client.readContract({
              address: registry,
              abi: registryAbi,
              functionName: "predictedAddress",
              args: [intent.evolutionId],
            })) as Address,
          })
        : await this.proposalActions(intent.proposalId);
    const forkBlock = await client.getBlock({ blockNumber: intent.forkBlock });
    log.info({ reason: intent.reason, forkBlock: intent.forkBlock.toString() }, "simulating evolution on a fork");
    const end = this.m.simulationSeconds.startTimer();
    let report: SimulationReport;
    try {
      report = await simulateEvolution({
        forkUrl: this.o.forkUrl,
        forkBlock: intent.forkBlock,
        chainId: this.o.chainId,
        evolutionId: intent.evolutionId,
        initCodeHash: e.initCodeHash,
        target: e.target,
        actions,
        governor: this.addresses.CovenantGovernor!,
        registry,
        timelock: this.addresses.CovenantTimelock!,
        simulator: this.o.account,
        invariants: this.o.invariants ?? registeredInvariants(),
        addresses: this.addresses,
        fromBlock: this.o.startBlock,
        chunkBlocks: this.o.chunkBlocks,
        abiOf: this.abiOf,
        errorAbi: this.errorAbi,
      });
    } finally {
      end();
    }
    if (report.forkBlockHash !== forkBlock.hash) {
      throw new Error(`the fork's block ${intent.forkBlock} is ${report.forkBlockHash}, the chain's ${forkBlock.hash}`);
    }
    const stored = await this.o.reports.put(report);
    this.m.simulations.inc({ result: report.passed ? "passed" : "failed" });
    const failures = [
      ...report.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`),
      ...report.invariants.filter((i) => i.result === "broken").map((i) => `${i.name}: ${i.detail}`),
    ];
    (report.passed ? log.info.bind(log) : log.warn.bind(log))(
      {
        passed: report.passed,
        cid: stored.cid,
        testsRun: report.testsRun,
        invariantsChecked: report.invariantsChecked,
        durationMs: report.durationMs,
        ...(failures.length > 0 && { failures }),
      },
      "simulation finished; report stored by content address",
    );
    const key = keys.attest(this.o.chainId, registry, intent.evolutionId, intent.forkBlock);
    await this.tables.insertSimulation(store, {
      evolutionId: intent.evolutionId,
      reason: intent.reason,
      forkBlock: intent.forkBlock,
      forkBlockHash: forkBlock.hash,
      actionsHash: report.actionsHash,
      passed: report.passed,
      testsRun: report.testsRun,
      invariantsChecked: report.invariantsChecked,
      cid: stored.cid,
      sha256: stored.sha256,
      durationMs: report.durationMs,
      attestKey: key,
    });
    summary.simulations.push({ evolutionId: intent.evolutionId, passed: report.passed, cid: stored.cid });
    const data = encodeFunctionData({
      abi: registryAbi,
      functionName: "attest",
      args: [
        {
          evolutionId: intent.evolutionId,
          initCodeHash: e.initCodeHash,
          actionsHash: report.actionsHash,
          chainId: BigInt(this.o.chainId),
          forkBlock: intent.forkBlock,
          forkBlockHash: forkBlock.hash,
          reportHash: stored.sha256,
          testsRun: report.testsRun,
          invariantsChecked: report.invariantsChecked,
          passed: report.passed,
        },
      ],
    });
    const record = await this.submit(
      { key, to: registry, data, label: `attest evolution ${intent.evolutionId} at block ${intent.forkBlock}` },
      "attest",
      { evolutionId: intent.evolutionId },
    );
    summary.outcomes.push({ key, status: record.status, revertReason: record.revertReason });
  }

  private async proposalActions(proposalId: bigint): Promise<ProposalActions> {
    const [targets, values, calldatas] = (await this.o.client.readContract({
      address: this.addresses.CovenantGovernor!,
      abi: this.abiOf("CovenantGovernor"),
      functionName: "proposalDetails",
      args: [proposalId],
    })) as [Address[], bigint[], Hex[], Hex];
    return { targets: [...targets], values: [...values], calldatas: [...calldatas] };
  }

  /** Submits under the key, waits up to TX_WAIT_MS, records and reports the outcome. */
  private async submit(
    intent: { key: string; to: Address; data: Hex; label: string },
    kind: "queue" | "execute" | "attest",
    ids: { proposalId?: bigint; evolutionId?: bigint },
  ): Promise<TxRecord> {
    const previous = await this.tables.action(this.o.store, intent.key);
    let record = await this.o.submitter.submit(intent);
    await this.tables.recordAction(this.o.store, {
      key: intent.key,
      kind,
      ...ids,
      txId: record.id,
      status: record.status,
      txHash: record.hash,
      revertReason: record.revertReason,
      error: record.error,
    });
    if (!isTerminal(record.status) && this.o.txWaitMs > 0) {
      try {
        record = await this.o.submitter.wait(record.id, { timeoutMs: this.o.txWaitMs, pollIntervalMs: 250 });
      } catch (err) {
        withContext(this.o.logger, { txId: record.id }).warn({ err, key: intent.key }, "transaction not final yet");
      }
    }
    if (isTerminal(record.status)) await this.noteOutcome(kind, intent.key, record, previous);
    return record;
  }

  /** Records a final outcome; logs and counts it when it differs from what was known before (`previous`). */
  private async noteOutcome(
    kind: "queue" | "execute" | "attest",
    key: string,
    record: TxRecord,
    previous: { status: ActionStatus; revert_reason: string | null } | undefined,
  ): Promise<void> {
    await this.tables.recordAction(this.o.store, {
      key,
      kind,
      txId: record.id,
      status: record.status,
      txHash: record.hash,
      revertReason: record.revertReason,
      error: record.error,
    });
    if (previous?.status === record.status && previous.revert_reason === (record.revertReason ?? null)) return;
    this.m.actions.inc({ kind, result: record.status });
    const log = withContext(this.o.logger, { txId: record.id });
    if (record.status === "confirmed")
      log.info({ key, hash: record.hash, label: record.label }, "transaction confirmed");
    else {
      log.error(
        { key, hash: record.hash, label: record.label, revertReason: record.revertReason, error: record.error },
        record.status === "rejected" ? "transaction refused by simulation; not sent" : "transaction failed",
      );
    }
  }
}
