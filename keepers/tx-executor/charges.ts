import { randomUUID } from "node:crypto";
import { type Address, encodeFunctionData, type Hash, keccak256, parseAbi, toBytes, zeroAddress } from "viem";
import { type ChainConnection, isTerminal, type Logger, type Submitter, shortMessageOf } from "../shared";
import type { ExecutorMetrics } from "./metrics";
import type { ExecutorStore } from "./requests";

/*
 * Charges the gas the executor paid for agents' transactions to each agent's infrastructure budget in the Treasury
 * (step 6 of the money path): `chargeServices(ETH, RELAYED_GAS_SERVICE, charges)`, one charge per relayed
 * transaction with its transaction hash as the `ref`, sent through the executor itself from the relayer key, which
 * holds RELAYED_GAS_SERVICE and receives the ETH.
 *
 * Never twice: the Treasury refuses a `ref` it has charged (TreasuryAlreadyCharged); rows are claimed in the store
 * under a batch key before the transaction is submitted with that key as its idempotency key; one batch is in flight
 * at a time. A row whose agent has too little budget or service allowance left waits for a later round: nothing is
 * sent that the chain would refuse, so one agent's empty budget never blocks the others' charges.
 */

export const treasuryChargeAbi = parseAbi([
  "function chargeServices(address token, bytes32 service, (uint256 agentId, uint256 amount, bytes32 ref)[] charges) returns (uint256 total)",
  "function budgetOf(uint256 agentId, address token) view returns (uint256)",
  "function serviceAllowance(uint256 agentId, bytes32 service, address token) view returns ((uint256 cap, bool agentLimitSet, uint96 agentLimit, uint256 spentThisPeriod, uint256 available))",
  "function isCharged(uint256 agentId, bytes32 service, bytes32 ref) view returns (bool)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
]);

/** keccak256("covenant.service.relayed-gas"): the Treasury's RELAYED_GAS_SERVICE. */
export const RELAYED_GAS_SERVICE: Hash = keccak256(toBytes("covenant.service.relayed-gas"));

export type GasChargerOptions = {
  store: ExecutorStore;
  chain: ChainConnection;
  /** The executor's in-process Submitter: the charge goes out from the relayer key. */
  submitter: Submitter;
  treasury: Address;
  /** Charges per transaction. */
  batchSize: number;
  /** A claim with no stored transaction is released after this long (another instance may be submitting it). */
  staleClaimMs: number;
  logger: Logger;
  metrics: ExecutorMetrics;
};

type GasRow = { request_id: string; agent_id: string; hash: Hash; cost_wei: string };

export type ChargeRound = {
  /** Rows whose batch confirmed in this round. */
  charged: number;
  /** Rows found charged on-chain already (a batch landed before a crash): marked, not sent again. */
  alreadyCharged: number;
  /** Rows left for a later round: the agent's budget or allowance is short. */
  deferred: number;
  /** The batch submitted in this round, if any. */
  submitted?: { key: string; charges: number; totalWei: bigint };
};

export class GasCharger {
  constructor(readonly o: GasChargerOptions) {}

  /** Whether `account` may charge (a deployment that did not grant the role fails at start, not at the first charge). */
  async mayCharge(account: Address): Promise<boolean> {
    return this.o.chain.publicClient.readContract({
      address: this.o.treasury,
      abi: treasuryChargeAbi,
      functionName: "hasRole",
      args: [RELAYED_GAS_SERVICE, account],
    });
  }

  /** One round: settle the batch in flight, or build, claim and submit the next one. */
  async round(): Promise<ChargeRound> {
    const out: ChargeRound = { charged: 0, alreadyCharged: 0, deferred: 0 };
    if (await this.settle(out)) return out; // a batch is still in flight
    const rows = await this.unclaimed();
    if (rows.length === 0) return out;

    const byAgent = new Map<string, GasRow[]>();
    for (const r of rows) byAgent.set(r.agent_id, [...(byAgent.get(r.agent_id) ?? []), r]);
    const charges: GasRow[] = [];
    for (const [agentId, agentRows] of byAgent) {
      let room = await this.room(BigInt(agentId));
      for (const row of agentRows) {
        if (await this.isCharged(BigInt(agentId), row.hash)) {
          await this.markCharged(row.request_id, `onchain:${row.hash}`);
          out.alreadyCharged++;
          continue;
        }
        const cost = BigInt(row.cost_wei);
        if (cost > room) {
          out.deferred++;
          continue;
        }
        room -= cost;
        charges.push(row);
      }
    }
    if (out.deferred > 0) {
      this.o.metrics.gasCharges.inc({ outcome: "deferred" }, out.deferred);
      this.o.logger.info({ deferred: out.deferred }, "relayed gas waits for agents' budgets or allowances");
    }
    if (charges.length === 0) return out;

    const key = `gas-charge:${randomUUID()}`;
    const claimed = new Set(await this.claim(charges, key));
    const batch = charges.filter((c) => claimed.has(c.request_id));
    if (batch.length === 0) return out; // another instance took them
    const totalWei = batch.reduce((s, c) => s + BigInt(c.cost_wei), 0n);
    try {
      const record = await this.o.submitter.submit({
        key,
        to: this.o.treasury,
        data: encodeFunctionData({
          abi: treasuryChargeAbi,
          functionName: "chargeServices",
          args: [
            zeroAddress,
            RELAYED_GAS_SERVICE,
            batch.map((c) => ({ agentId: BigInt(c.agent_id), amount: BigInt(c.cost_wei), ref: c.hash })),
          ],
        }),
        label: `charge relayed gas: ${batch.length} transactions`,
      });
      if (record.status === "rejected") {
        await this.release(key);
        this.o.metrics.gasCharges.inc({ outcome: "failed" }, batch.length);
        this.o.logger.warn({ key, error: record.error }, "gas charge refused before the chain; rows released");
        return out;
      }
    } catch (err) {
      // Maybe stored, maybe not: the rows keep the key and settle() looks it up.
      this.o.logger.warn({ key, err: shortMessageOf(err) }, "gas charge not submitted; settled next round");
      return out;
    }
    out.submitted = { key, charges: batch.length, totalWei };
    this.o.logger.info({ key, charges: batch.length, totalWei: totalWei.toString() }, "gas charge submitted");
    return out;
  }

  /** Settles claimed rows by their batch's record; true while a batch is still in flight. */
  private async settle(out: ChargeRound): Promise<boolean> {
    const { rows } = await this.o.store.db.query<{ charge_ref: string; n: string; stale: boolean }>(
      `SELECT charge_ref, count(*) AS n,
              bool_and(charge_claimed_at < now() - make_interval(secs => $1::double precision)) AS stale
         FROM ${this.o.store.t.gas}
        WHERE charged_at IS NULL AND charge_ref IS NOT NULL GROUP BY charge_ref`,
      [this.o.staleClaimMs / 1_000],
    );
    let inFlight = false;
    for (const { charge_ref: key, n, stale } of rows) {
      const record = await this.o.submitter.get(key);
      if (record === undefined) {
        // Claimed, never stored: released once no instance can still be submitting it.
        if (stale) await this.release(key);
        else inFlight = true;
        continue;
      }
      if (!isTerminal(record.status)) {
        inFlight = true;
        continue;
      }
      if (record.status !== "confirmed") {
        // Reverted (a budget spent in between) or refused: every row is checked again next round.
        await this.release(key);
        this.o.metrics.gasCharges.inc({ outcome: "failed" }, Number(n));
        this.o.logger.warn({ key, status: record.status, error: record.error }, "gas charge did not land; retrying");
        continue;
      }
      await this.o.store.db.query(
        `UPDATE ${this.o.store.t.gas} SET charged_at = now() WHERE charge_ref = $1 AND charged_at IS NULL`,
        [key],
      );
      out.charged += Number(n);
      this.o.metrics.gasCharges.inc({ outcome: "charged" }, Number(n));
    }
    return inFlight;
  }

  /** What the agent can be charged now: the smaller of its ETH budget and its RELAYED_GAS_SERVICE allowance. */
  private async room(agentId: bigint): Promise<bigint> {
    const { address, abi } = { address: this.o.treasury, abi: treasuryChargeAbi };
    const [budget, allowance] = await Promise.all([
      this.o.chain.publicClient.readContract({ address, abi, functionName: "budgetOf", args: [agentId, zeroAddress] }),
      this.o.chain.publicClient.readContract({
        address,
        abi,
        functionName: "serviceAllowance",
        args: [agentId, RELAYED_GAS_SERVICE, zeroAddress],
      }),
    ]);
    if (budget < allowance.available) return budget;
    return allowance.available;
  }

  private isCharged(agentId: bigint, ref: Hash): Promise<boolean> {
    return this.o.chain.publicClient.readContract({
      address: this.o.treasury,
      abi: treasuryChargeAbi,
      functionName: "isCharged",
      args: [agentId, RELAYED_GAS_SERVICE, ref],
    });
  }

  private async unclaimed(): Promise<GasRow[]> {
    const { rows } = await this.o.store.db.query<GasRow>(
      `SELECT request_id, agent_id::text AS agent_id, hash, cost_wei::text AS cost_wei FROM ${this.o.store.t.gas}
        WHERE charged_at IS NULL AND charge_ref IS NULL AND cost_wei > 0
        ORDER BY recorded_at, request_id LIMIT $1`,
      [this.o.batchSize],
    );
    return rows;
  }

  /** Claims rows for a batch; returns the ids this instance got (another instance may hold some). */
  private async claim(rows: GasRow[], key: string): Promise<string[]> {
    const { rows: got } = await this.o.store.db.query<{ request_id: string }>(
      `UPDATE ${this.o.store.t.gas} SET charge_ref = $2, charge_claimed_at = now()
        WHERE request_id = ANY($1::text[]) AND charge_ref IS NULL AND charged_at IS NULL RETURNING request_id`,
      [rows.map((r) => r.request_id), key],
    );
    return got.map((r) => r.request_id);
  }

  private async release(key: string): Promise<void> {
    await this.o.store.db.query(
      `UPDATE ${this.o.store.t.gas} SET charge_ref = NULL, charge_claimed_at = NULL
        WHERE charge_ref = $1 AND charged_at IS NULL`,
      [key],
    );
  }

  private async markCharged(requestId: string, ref: string): Promise<void> {
    await this.o.store.db.query(
      `UPDATE ${this.o.store.t.gas} SET charged_at = now(), charge_ref = $2 WHERE request_id = $1`,
      [requestId, ref],
    );
  }
}
