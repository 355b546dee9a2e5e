import type { Metrics } from "../shared";

/** The executor's own Prometheus series (prefix covenant_tx_executor_). */
export function executorMetrics(m: Metrics) {
  return {
    requests: m.counter("requests_total", "Requests by outcome (accepted, replayed, queued, rejected) and reason", [
      "kind",
      "outcome",
      "reason",
    ]),
    finished: m.counter("transactions_total", "Transactions that reached a final state", ["kind", "status"]),
    pending: m.gauge("pending_transactions", "Transactions signed and not yet final, per sender", ["sender"]),
    queued: m.gauge("queued_requests", "Requests waiting for a check or for a nonce"),
    nonceGaps: m.gauge("nonce_gaps", "Nonces handed out with no stored transaction (must stay 0)", ["sender"]),
    latency: m.histogram(
      "submit_to_confirm_seconds",
      "From the first accepted broadcast to the final receipt",
      ["kind"],
      [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300, 600],
    ),
    replacements: m.counter("replacements_total", "Stuck transactions replaced with higher fees", ["sender"]),
    stuck: m.counter("stuck_total", "Transactions reported stuck at the fee or replacement cap", ["sender"]),
    broadcastErrors: m.counter("broadcast_errors_total", "Broadcasts refused or failed", ["kind"]),
    foreignNonce: m.counter("foreign_nonce_total", "Nonces taken by transactions this executor did not sign", [
      "sender",
    ]),
    underfunded: m.gauge("sender_underfunded", "1 while the sender cannot pay for the next accepted request", [
      "sender",
    ]),
    breakerTrips: m.counter("breaker_trips_total", "Agents the circuit breaker stopped accepting", ["code"]),
    agentGasWei: m.counter("agent_gas_wei_total", "Wei of gas paid for agents' transactions", ["kind"]),
    gasCharges: m.counter(
      "gas_charges_total",
      "Relayed transactions charged to agents' budgets (charged, deferred: budget short, failed: batch did not land)",
      ["outcome"],
    ),
  };
}

export type ExecutorMetrics = ReturnType<typeof executorMetrics>;
