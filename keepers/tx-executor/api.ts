import { z } from "zod";
import {
  HttpError,
  type HttpRequest,
  type HttpResponse,
  type HttpServer,
  SubmitError,
  type TxIntent,
  txRecordToJson,
} from "../shared";
import type { Executor, Outcome } from "./executor";
import type { ExecutorRecord, ExecutorRecordJson, RejectionCode } from "./types";
import { REJECTIONS } from "./types";

/*
 * The HTTP API.
 *
 *   POST /tx/execute                   an agent's signed Spend, or a keeper's own transaction
 *   GET  /tx/status/:id                a request: status, hash, nonce, gas used, block, revert reason
 *   GET  /tx/keys/:key                 a keeper's request by its idempotency key (keeper token)
 *   GET  /agents/:agentId/keys/:key    an agent's request by its idempotency key
 *   GET  /tx/audit/:id                 the audit trail of a request
 *   GET  /agents/:agentId/gas          gas paid for an agent, and what is not yet charged
 *
 * Every refusal is `{ "error": { "code", "message", … } }` with the status of REJECTIONS[code].
 */

export const idempotencyKey = z
  .string({ error: "expected a string" })
  .min(1, "must not be empty")
  .max(200, "at most 200 characters")
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

const keeperBody = z.object({
  kind: z.literal("keeper"),
  idempotencyKey,
  to: z.string({ error: "expected an address string" }),
  data: z.string({ error: "expected 0x-prefixed hex" }),
  value: z.string({ error: "expected a decimal string" }).optional(),
  gas: z.string({ error: "expected a decimal string" }).optional(),
  label: z.string({ error: "expected a string" }).optional(),
  agentId: z.string({ error: "expected a decimal string" }).optional(),
});

const spendEnvelope = z.object({ kind: z.literal("spend"), idempotencyKey }).loose();

const agentIdParam = z.string().regex(/^\d{1,78}$/, "expected a decimal agent id");

/** Refusals the HTTP server makes itself, before the route's handler could read the request. */
const SERVER_REFUSALS = new Set<RejectionCode>(["invalid_json", "payload_too_large", "unsupported_media_type"]);

export function registerRoutes(http: HttpServer, executor: Executor): void {
  http.route("POST", "/tx/execute", (req) => execute(executor, req));
  // Audit those too: every request to /tx/execute leaves a line in the audit log.
  http.onRefused(async (r) => {
    if (r.route === "/tx/execute" && SERVER_REFUSALS.has(r.code as RejectionCode)) {
      await executor.auditRefusal(r.code as RejectionCode, r.message);
    }
  });

  http.route("GET", "/tx/status/:id", async (req) => {
    const record = await executor.get(req.params.id!);
    if (!record) return errorResponse(404, "not_found", `no request ${req.params.id}`);
    return { body: recordToJson(record) };
  });

  http.route("GET", "/tx/keys/:key", async (req) => {
    const keeper = executor.keeperTokens.identify(req.headers.authorization);
    if (!keeper) return errorResponse(401, "unauthorized", "a keeper token is required (Authorization: Bearer …)");
    const record = await executor.getByKey(`keeper:${keeper}`, req.params.key!);
    if (!record) return errorResponse(404, "not_found", `keeper ${keeper} has no request under key ${req.params.key}`);
    return { body: recordToJson(record) };
  });

  http.route("GET", "/agents/:agentId/keys/:key", async (req) => {
    const agentId = agentIdParam.safeParse(req.params.agentId);
    if (!agentId.success) return errorResponse(400, "invalid_request", "expected a decimal agent id");
    const record = await executor.getByKey(`agent:${BigInt(agentId.data)}`, req.params.key!);
    if (!record)
      return errorResponse(404, "not_found", `agent ${agentId.data} has no request under key ${req.params.key}`);
    return { body: recordToJson(record) };
  });

  http.route("GET", "/tx/audit/:id", async (req) => {
    const record = await executor.get(req.params.id!);
    if (!record) return errorResponse(404, "not_found", `no request ${req.params.id}`);
    const trail = await executor.auditTrail(record.id);
    return {
      body: {
        id: record.id,
        entries: trail.map((e) => ({
          at: e.at.toISOString(),
          event: e.event,
          ...(e.code && { code: e.code }),
          ...(e.reason && { reason: e.reason }),
          ...(e.detail !== null && { detail: e.detail }),
          instance: e.instance,
        })),
      },
    };
  });

  http.route("GET", "/agents/:agentId/gas", async (req) => {
    const agentId = agentIdParam.safeParse(req.params.agentId);
    if (!agentId.success) return errorResponse(400, "invalid_request", "expected a decimal agent id");
    const g = await executor.agentGas(BigInt(agentId.data));
    return {
      body: {
        agentId: agentId.data,
        transactions: g.transactions,
        gasUsed: g.gasUsed.toString(),
        costWei: g.costWei.toString(),
        unchargedTransactions: g.unchargedTransactions,
        unchargedWei: g.unchargedWei.toString(),
      },
    };
  });
}

async function execute(executor: Executor, req: HttpRequest): Promise<HttpResponse> {
  const body = req.body;
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    return refuse(executor, "invalid_request", "the body must be a JSON object");
  }
  const kind = (body as { kind?: unknown }).kind;
  let outcome: Outcome;
  try {
    if (kind === "keeper") {
      const keeper = executor.keeperTokens.identify(req.headers.authorization);
      if (!keeper)
        return refuse(executor, "unauthorized", "a keeper transaction needs a keeper token (Authorization: Bearer …)", {
          kind,
        });
      const parsed = keeperBody.safeParse(body);
      if (!parsed.success) return refuseIssues(executor, parsed.error, { kind, keeper });
      const { idempotencyKey: key, ...rest } = parsed.data;
      outcome = await executor.submit({ kind: "keeper", keeper, intent: { key, ...rest } as unknown as TxIntent });
    } else if (kind === "spend") {
      if (!executor.spendsEnabled)
        return refuse(executor, "spends_disabled", "this executor has no SPENDING_MODULE configured", { kind });
      const envelope = spendEnvelope.safeParse(body);
      if (!envelope.success) return refuseIssues(executor, envelope.error, { kind });
      const spend = executor.parseSpend(body);
      outcome = await executor.submit({ kind: "spend", key: envelope.data.idempotencyKey, spend });
    } else {
      return refuse(executor, "invalid_request", 'kind must be "spend" or "keeper"', {}, [
        { path: "kind", message: 'expected "spend" or "keeper"' },
      ]);
    }
  } catch (err) {
    if (err instanceof HttpError && err.status === 400) {
      await executor.auditRefusal("invalid_request", err.shortMessage, { kind, ...(err.extra ?? {}) });
      throw err;
    }
    if (err instanceof SubmitError && err.code === "INVALID_INTENT") {
      return refuse(executor, "invalid_request", err.shortMessage, { kind });
    }
    throw err;
  }
  return respond(outcome);
}

function respond(outcome: Outcome): HttpResponse {
  switch (outcome.type) {
    case "accepted":
    case "queued":
      return { status: 202, body: recordToJson(outcome.record) };
    case "replayed":
      return { status: 200, body: recordToJson(outcome.record), headers: { "Idempotent-Replayed": "true" } };
    case "rejected": {
      const { code, message, revertReason } = outcome.rejection;
      const extra: Record<string, unknown> = { ...(outcome.extra ?? {}) };
      if (outcome.record) extra.id = outcome.record.id;
      if (revertReason) extra.revertReason = revertReason;
      const headers: Record<string, string> = {};
      if (code === "rate_limited" && typeof extra.retryAfterMs === "number") {
        headers["Retry-After"] = String(Math.max(1, Math.ceil(extra.retryAfterMs / 1000)));
      }
      return { ...errorResponse(outcome.http, code, message, extra), headers };
    }
  }
}

async function refuse(
  executor: Executor,
  code: RejectionCode,
  message: string,
  detail: Record<string, unknown> = {},
  issues?: { path: string; message: string }[],
): Promise<HttpResponse> {
  await executor.auditRefusal(code, message, { ...detail, ...(issues && { issues }) });
  return errorResponse(REJECTIONS[code], code, message, issues ? { issues } : undefined);
}

function refuseIssues(executor: Executor, error: z.ZodError, detail: Record<string, unknown>): Promise<HttpResponse> {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  const message = `request does not match the expected shape: ${issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; ")}`;
  return refuse(executor, "invalid_request", message, detail, issues);
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  extra?: Record<string, unknown>,
): HttpResponse {
  return { status, body: { error: { code, message, ...(extra ?? {}) } } };
}

export function recordToJson(r: ExecutorRecord): ExecutorRecordJson {
  const { kind, keeper, attempts, rejection, accepted, ...base } = r;
  return {
    ...txRecordToJson(base),
    kind,
    ...(keeper !== undefined && { keeper }),
    attempts,
    ...(rejection !== undefined && { rejection }),
    accepted,
  };
}
