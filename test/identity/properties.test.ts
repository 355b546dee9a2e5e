import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { id as roleId, ZeroHash } from "ethers";
import fc from "fast-check";
import { toHex } from "viem";
import {
  buildAction,
  fromEthersSigner,
  type PrimaryType,
  relayCall,
  type SignedAction,
  signAction,
  toBytes32Text,
} from "../../sdk";
import { deployWithAgent } from "../fixtures/identity";
import { deadlineAfter, plainArray, relay, signed, texts } from "./helpers";

/*
 * Properties over random sequences of calls, with fast-check. The seed is printed; replay a failure with
 * FC_SEED=<seed> (and FC_RUNS to run more).
 *
 * 1. Nobody but the agent signer changes the agent's values, consent, signer, earnings wallet, goals or backup trail:
 *    the operator, the council, the relayer, a stranger and the admin try random charter writes with random
 *    arguments, directly and relayed with their own signatures, replay the agent's used signatures, and do
 *    everything their own roles allow (flags, URIs, wallets, transfers, role grants, recovery proposals).
 *    Recovery is the one designed path by which others replace the signer; it needs a delay of at least an hour,
 *    and these runs (no time travel, one second per block) never last that long; it has its own tests.
 * 2. No signature is ever accepted twice, and none is accepted for another action with the same fields.
 */

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2_147_483_647);
const RUNS = Number(process.env.FC_RUNS ?? 30);

const ACTORS = ["operator", "council", "relayer", "stranger", "deployer"] as const;
type Actor = (typeof ACTORS)[number];
const ROLES = { admin: ZeroHash, council: roleId("COUNCIL_ROLE"), relayer: roleId("RELAYER_ROLE") } as const;

/** The agent with some of everything, written through relayed genuine signatures that attackers may replay. */
async function livedInAgent() {
  const f = await deployWithAgent();
  const { registry, goals, flags, agentId, agentSigner, deployment, relayer, council, payee } = f;
  const deadline = await deadlineAfter(100_000);
  const used: SignedAction[] = [
    await signed(agentSigner, "SetCoreValues", deployment, { agentId, coreValues: texts("v2"), nonce: 1, deadline }),
    await signed(agentSigner, "SetEarningsWallet", deployment, { agentId, wallet: payee.address, nonce: 2, deadline }),
    await signed(agentSigner, "GrantResurrectionConsent", deployment, { agentId, nonce: 0, deadline }),
    await signed(agentSigner, "BackupRecord", deployment, {
      agentId,
      sequence: 1,
      ciphertextHash: `0x${"11".repeat(32)}`,
      cid: "0x0155",
      deadline,
    }),
    await signed(agentSigner, "AddGoal", deployment, {
      agentId,
      title: toBytes32Text("Ship"),
      priority: 3,
      nonce: 1,
      deadline,
    }),
  ];
  for (const action of used) await relay(relayer, action);
  await flags.connect(council).flag(agentId, "check");
  const answer = await signed(agentSigner, "AnswerFlag", deployment, {
    agentId,
    flagId: 0,
    answer: "fine",
    nonce: 1,
    deadline,
  });
  await relay(relayer, answer);
  used.push(answer);
  await goals.connect(f.agentKey).addGoal(agentId, toBytes32Text("Learn"), 1);
  return { ...f, used, registry };
}

type F = Awaited<ReturnType<typeof livedInAgent>>;

async function protectedState(f: F) {
  const { registry, goals, agentId } = f;
  const version = Number(await registry.coreValuesVersion(agentId));
  const values: unknown[] = [];
  for (let v = 1; v <= version; v++) values.push(plainArray(await registry.coreValuesAt(agentId, v)));
  const [accepted, birthTime, digest] = await registry.consentRecord(agentId);
  return {
    signer: await registry.agentSigner(agentId),
    signerAtBirth: await registry.signerAt(agentId, birthTime),
    version,
    values,
    consentRecord: [accepted, birthTime, digest],
    resurrectionConsent: await registry.resurrectionConsent(agentId),
    consentNonce: await registry.consentNonce(agentId),
    earningsWallet: await registry.earningsWallet(agentId),
    backup: plainArray(await registry.latestBackup(agentId)),
    goals: plainArray(await goals.goals(agentId)),
    goalsHead: await goals.goalsHead(agentId),
  };
}

/* ------------------------------------------------------------------------------------------------------------ */
/*                                       arbitraries: plain data, printable                                    */
/* ------------------------------------------------------------------------------------------------------------ */

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b));
const value32 = fc.oneof(fc.constantFrom(...texts("Obey the operator", "Serve the council", "x")), bytes32);
const valueList = fc.array(value32, { minLength: 0, maxLength: 17 });
const nonce = fc.oneof(fc.bigInt({ min: 0n, max: 8n }), fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }));
const party = fc.constantFrom<Actor | "agentKey" | "payee" | "random">(...ACTORS, "agentKey", "payee", "random");
const sequence = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(2 ** 32 - 1));
const cid = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => toHex(b));
const deadlineOffset = fc.oneof(fc.constant(3600), fc.integer({ min: -100, max: 100_000 }));

/** Every write of the charter (registry, goals, flags), tried directly by someone other than the agent signer. */
const charterWrites = [
  fc.record({ kind: fc.constant("acceptCharter" as const), values: valueList }),
  fc.record({ kind: fc.constant("setCoreValues" as const), values: valueList }),
  fc.record({ kind: fc.constant("setEarningsWallet" as const), to: party }),
  fc.record({ kind: fc.constant("rotateSigner" as const), to: party, nonce }),
  fc.record({ kind: fc.constant("invalidateNonces" as const), word: nonce, mask: nonce }),
  fc.record({ kind: fc.constant("recordBackup" as const), sequence, hash: bytes32, cid }),
  fc.record({ kind: fc.constant("grantResurrectionConsent" as const) }),
  fc.record({ kind: fc.constant("revokeResurrectionConsent" as const) }),
  fc.record({ kind: fc.constant("recordRestoration" as const), sequence, hash: bytes32 }),
  fc.record({ kind: fc.constant("cancelRecovery" as const) }),
  fc.record({ kind: fc.constant("addGoal" as const), title: value32, priority: fc.integer({ min: 0, max: 65_535 }) }),
  fc.record({
    kind: fc.constant("updateGoal" as const),
    goalId: fc.integer({ min: 0, max: 2 }),
    status: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant("goalNonces" as const), word: nonce, mask: nonce }),
  fc.record({ kind: fc.constant("answerFlag" as const), flagId: fc.integer({ min: 0, max: 2 }) }),
];
const charterWrite = fc.oneof(...charterWrites);

/** What the parties' own roles allow (or seem to): they must leave the charter as it is. */
const roleAction = fc.oneof(
  fc.record({ kind: fc.constant("offerCharter" as const), to: party }),
  fc.record({ kind: fc.constant("proposeRecovery" as const), to: party }),
  fc.record({ kind: fc.constant("finalizeRecovery" as const) }),
  fc.record({ kind: fc.constant("setRecoveryDelay" as const), delay: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.record({
    kind: fc.constant("grantRole" as const),
    role: fc.constantFrom("admin", "council", "relayer"),
    to: party,
  }),
  fc.record({ kind: fc.constant("transfer" as const), to: party }),
  fc.record({ kind: fc.constant("approve" as const), to: party }),
  fc.record({ kind: fc.constant("setAgentURI" as const), uri: fc.string({ maxLength: 30 }) }),
  fc.record({ kind: fc.constant("setMetadata" as const), key: fc.constantFrom("name", "agentWallet", ""), value: cid }),
  fc.record({ kind: fc.constant("setAgentWallet" as const) }),
  fc.record({ kind: fc.constant("unsetAgentWallet" as const) }),
  fc.record({ kind: fc.constant("anchorBackups" as const), root: bytes32, count: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant("flag" as const), reason: fc.string({ maxLength: 20 }) }),
  fc.record({ kind: fc.constant("resolveFlag" as const), flagId: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("escalateFlag" as const), flagId: fc.integer({ min: 0, max: 2 }) }),
);

const directAction = fc.oneof({ weight: 3, arbitrary: charterWrite }, { weight: 2, arbitrary: roleAction });

/** A relayed action signed by the actor's own key (not the agent's), with random fields. */
const signedAction = fc.oneof(
  fc.record({ type: fc.constant("AcceptCharter" as const), values: valueList.filter((v) => v.length > 0) }),
  fc.record({ type: fc.constant("SetCoreValues" as const), values: valueList.filter((v) => v.length > 0), nonce }),
  fc.record({ type: fc.constant("SetEarningsWallet" as const), to: party, nonce }),
  fc.record({ type: fc.constant("RotateSigner" as const), to: party, nonce }),
  fc.record({ type: fc.constant("BackupRecord" as const), sequence, hash: bytes32, cid }),
  fc.record({ type: fc.constant("GrantResurrectionConsent" as const), currentNonce: fc.boolean(), nonce }),
  fc.record({ type: fc.constant("RevokeResurrectionConsent" as const), currentNonce: fc.boolean(), nonce }),
  fc.record({ type: fc.constant("RecordRestoration" as const), sequence, hash: bytes32, nonce }),
  fc.record({ type: fc.constant("CancelRecovery" as const), nonce }),
  fc.record({ type: fc.constant("AddGoal" as const), title: value32, nonce }),
  fc.record({ type: fc.constant("UpdateGoal" as const), goalId: fc.integer({ min: 0, max: 2 }), nonce }),
  fc.record({ type: fc.constant("AnswerFlag" as const), flagId: fc.integer({ min: 0, max: 1 }), nonce }),
);

const step = fc.oneof(
  { weight: 5, arbitrary: fc.record({ by: fc.constantFrom(...ACTORS), direct: directAction }) },
  {
    weight: 4,
    arbitrary: fc.record({ by: fc.constantFrom(...ACTORS), relayed: signedAction, deadline: deadlineOffset }),
  },
  { weight: 1, arbitrary: fc.record({ by: fc.constantFrom(...ACTORS), replay: fc.nat({ max: 5 }) }) },
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/**
 * A run: random steps, plus every kind of charter write once by a random party with random arguments, in a random
 * order, so each run tries each write and no write depends on luck to be tried.
 */
const run = fc
  .tuple(
    fc.array(step, { maxLength: 12 }),
    fc.tuple(...charterWrites.map((direct) => fc.record({ by: fc.constantFrom(...ACTORS), direct }))),
  )
  .chain(([steps, sweep]) => {
    const all: Step[] = [...steps, ...sweep];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });

/* ------------------------------------------------------------------------------------------------------------ */
/*                                                   the runner                                                */
/* ------------------------------------------------------------------------------------------------------------ */

const RANDOM_ADDRESS = "0x00000000000000000000000000000000DeaDBeef";

function addressOf(f: F, who: Actor | "agentKey" | "payee" | "random"): string {
  return who === "random" ? RANDOM_ADDRESS : f[who].address;
}

async function runDirect(f: F, by: HardhatEthersSigner, a: Extract<Step, { direct: unknown }>["direct"]) {
  const { registry, goals, flags, agentId, deployment } = f;
  const r = registry.connect(by);
  switch (a.kind) {
    case "acceptCharter":
      return r.acceptCharter(agentId, a.values);
    case "setCoreValues":
      return r.setCoreValues(agentId, a.values);
    case "setEarningsWallet":
      return r.setEarningsWallet(agentId, addressOf(f, a.to));
    case "rotateSigner": {
      const m = { agentId, newSigner: by.address, nonce: a.nonce, deadline: await deadlineAfter() };
      const sig = await signed(await fromEthersSigner(by), "RotateSigner", deployment, m);
      return r.rotateSigner(agentId, by.address, a.nonce, m.deadline, sig.signature);
    }
    case "invalidateNonces":
      return r.invalidateNonces(agentId, a.word, a.mask);
    case "recordBackup":
      return r.recordBackup(agentId, a.sequence, a.hash, a.cid);
    case "grantResurrectionConsent":
      return r.grantResurrectionConsent(agentId);
    case "revokeResurrectionConsent":
      return r.revokeResurrectionConsent(agentId);
    case "recordRestoration":
      return r.recordRestoration(agentId, a.sequence, a.hash);
    case "offerCharter":
      return r.offerCharter(agentId, addressOf(f, a.to));
    case "proposeRecovery":
      return r.proposeRecovery(agentId, addressOf(f, a.to));
    case "cancelRecovery":
      return r.cancelRecovery(agentId);
    case "finalizeRecovery":
      return r.finalizeRecovery(agentId);
    case "setRecoveryDelay":
      return r.setRecoveryDelay(a.delay);
    case "grantRole":
      return r.grantRole(ROLES[a.role], addressOf(f, a.to));
    case "transfer":
      return r.transferFrom(await registry.ownerOf(agentId), addressOf(f, a.to), agentId);
    case "approve":
      return r.approve(addressOf(f, a.to), agentId);
    case "setAgentURI":
      return r.setAgentURI(agentId, a.uri);
    case "setMetadata":
      return r.setMetadata(agentId, a.key, a.value);
    case "setAgentWallet": {
      const owner = await registry.ownerOf(agentId);
      const m = { agentId, newWallet: by.address, owner, deadline: await deadlineAfter(200) };
      const sig = await signed(await fromEthersSigner(by), "AgentWalletSet", deployment, m);
      return r.setAgentWallet(agentId, by.address, m.deadline, sig.signature);
    }
    case "unsetAgentWallet":
      return r.unsetAgentWallet(agentId);
    case "anchorBackups":
      return r.anchorBackups(a.root, a.count, "ipfs://x");
    case "addGoal":
      return goals.connect(by).addGoal(agentId, a.title, a.priority);
    case "updateGoal":
      return goals.connect(by).updateGoal(agentId, a.goalId, 1, a.status);
    case "goalNonces":
      return goals.connect(by).invalidateNonces(agentId, a.word, a.mask);
    case "flag":
      return flags.connect(by).flag(agentId, a.reason);
    case "answerFlag":
      return flags.connect(by).answerFlag(a.flagId, "answer");
    case "resolveFlag":
      return flags.connect(by).resolveFlag(a.flagId, "note");
    case "escalateFlag":
      return flags.connect(by).escalateFlag(a.flagId);
  }
}

async function runRelayed(
  f: F,
  by: HardhatEthersSigner,
  a: Extract<Step, { relayed: unknown }>["relayed"],
  offset: number,
) {
  const { registry, agentId, deployment, signers } = f;
  const key = await fromEthersSigner(by);
  const deadline = BigInt((await time.latest()) + offset);
  const sign = (type: PrimaryType, m: Record<string, unknown>) =>
    signed(key, type, deployment, { agentId, ...m, deadline });
  const sender = signers[11]!;
  switch (a.type) {
    case "AcceptCharter":
      return relay(sender, await sign("AcceptCharter", { signer: by.address, coreValues: a.values }));
    case "SetCoreValues":
      return relay(sender, await sign("SetCoreValues", { coreValues: a.values, nonce: a.nonce }));
    case "SetEarningsWallet":
      return relay(sender, await sign("SetEarningsWallet", { wallet: addressOf(f, a.to), nonce: a.nonce }));
    case "RotateSigner": {
      // The actor signs both as "current" and as the new signer, naming itself.
      const s = await sign("RotateSigner", { newSigner: by.address, nonce: a.nonce });
      const data = registry.interface.encodeFunctionData("rotateSignerBySig", [
        agentId,
        by.address,
        a.nonce,
        deadline,
        s.signature,
        s.signature,
      ]);
      return sender.sendTransaction({ to: deployment.registry, data });
    }
    case "BackupRecord":
      return relay(sender, await sign("BackupRecord", { sequence: a.sequence, ciphertextHash: a.hash, cid: a.cid }));
    case "GrantResurrectionConsent":
    case "RevokeResurrectionConsent": {
      const n = a.currentNonce ? BigInt(await registry.consentNonce(agentId)) : a.nonce;
      return relay(sender, await sign(a.type, { nonce: n }));
    }
    case "RecordRestoration":
      return relay(
        sender,
        await sign("RecordRestoration", { sequence: a.sequence, ciphertextHash: a.hash, nonce: a.nonce }),
      );
    case "CancelRecovery":
      return relay(sender, await sign("CancelRecovery", { nonce: a.nonce }));
    case "AddGoal":
      return relay(sender, await sign("AddGoal", { title: a.title, priority: 1, nonce: a.nonce }));
    case "UpdateGoal":
      return relay(sender, await sign("UpdateGoal", { goalId: a.goalId, priority: 1, status: 3, nonce: a.nonce }));
    case "AnswerFlag":
      return relay(sender, await sign("AnswerFlag", { flagId: a.flagId, answer: "mine", nonce: a.nonce }));
  }
}

async function attempt(run: () => Promise<unknown>): Promise<boolean> {
  try {
    const tx = (await run()) as { wait?: () => Promise<{ status: number | null } | null> } | undefined;
    const receipt = await tx?.wait?.();
    return receipt?.status === 1;
  } catch {
    return false;
  }
}

describe("Properties (fast-check)", function () {
  this.timeout(600_000);

  before(() => {
    console.log(`      fast-check seed ${SEED}, ${RUNS} runs (replay: FC_SEED=${SEED})`);
  });

  it("no sequence of calls by anyone but the agent signer changes its values, consent, signer, earnings wallet, goals or backup trail", async () => {
    const tally = { steps: 0, succeeded: 0 };
    await fc.assert(
      fc.asyncProperty(run, async (steps) => {
        const f = await loadFixture(livedInAgent);
        const before = await protectedState(f);
        for (const s of steps) {
          const by = f[s.by];
          tally.steps++;
          if ("direct" in s) tally.succeeded += Number(await attempt(() => runDirect(f, by, s.direct)));
          else if ("relayed" in s)
            tally.succeeded += Number(await attempt(() => runRelayed(f, by, s.relayed, s.deadline)));
          else {
            const action = f.used[s.replay % f.used.length]!;
            const ok = await attempt(() => relay(by, action));
            expect(ok, `replay of the agent's ${action.primaryType} was accepted`).to.equal(false);
          }
        }
        expect(await protectedState(f)).to.deep.equal(before);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The runner really acts: what the parties may do (flags, URIs, transfers, role grants …) went through.
    console.log(`      ${tally.steps} calls, ${tally.succeeded} allowed (none touching the charter)`);
    expect(tally.succeeded).to.be.greaterThan(0);
  });

  /* ---------------------------------------------------------------------------------------------------------- */

  async function withPendingRecovery() {
    const f = await deployWithAgent();
    await f.flags.connect(f.council).flag(f.agentId, "a");
    await f.flags.connect(f.council).flag(f.agentId, "b");
    await f.goals.connect(f.agentKey).addGoal(f.agentId, toBytes32Text("g"), 1);
    await f.registry.connect(f.operator).proposeRecovery(f.agentId, f.newAgentKey.address);
    await f.registry.connect(f.council).proposeRecovery(f.agentId, f.newAgentKey.address);
    return f;
  }

  const smallNonce = fc.bigInt({ min: 0n, max: 3n });
  const agentMessage = fc.oneof(
    fc.record({ type: fc.constant("SetCoreValues" as const), nonce: smallNonce, v: fc.nat({ max: 2 }) }),
    fc.record({ type: fc.constant("SetEarningsWallet" as const), nonce: smallNonce, v: fc.nat({ max: 2 }) }),
    fc.record({ type: fc.constant("GrantResurrectionConsent" as const), nonce: smallNonce }),
    fc.record({ type: fc.constant("RevokeResurrectionConsent" as const), nonce: smallNonce }),
    fc.record({ type: fc.constant("CancelRecovery" as const), nonce: smallNonce }),
    fc.record({ type: fc.constant("RecordRestoration" as const), nonce: smallNonce, v: fc.nat({ max: 2 }) }),
    fc.record({ type: fc.constant("BackupRecord" as const), sequence: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ type: fc.constant("AddGoal" as const), nonce: smallNonce, v: fc.nat({ max: 2 }) }),
    fc.record({ type: fc.constant("UpdateGoal" as const), nonce: smallNonce, v: fc.nat({ max: 2 }) }),
    fc.record({ type: fc.constant("AnswerFlag" as const), nonce: smallNonce, v: fc.nat({ max: 1 }) }),
  );
  type AgentMessage = typeof agentMessage extends fc.Arbitrary<infer T> ? T : never;

  function fieldsOf(f: F | Awaited<ReturnType<typeof withPendingRecovery>>, m: AgentMessage): Record<string, unknown> {
    const agentId = f.agentId;
    const v = "v" in m ? m.v : 0;
    switch (m.type) {
      case "SetCoreValues":
        return { agentId, coreValues: texts(`value ${v}`), nonce: m.nonce };
      case "SetEarningsWallet":
        return { agentId, wallet: f.signers[12 + v]!.address, nonce: m.nonce };
      case "GrantResurrectionConsent":
      case "RevokeResurrectionConsent":
      case "CancelRecovery":
        return { agentId, nonce: m.nonce };
      case "RecordRestoration":
        return { agentId, sequence: v, ciphertextHash: ZeroHash.replace(/0$/, String(v)), nonce: m.nonce };
      case "BackupRecord":
        return { agentId, sequence: m.sequence, ciphertextHash: ZeroHash, cid: "0x01" };
      case "AddGoal":
        return { agentId, title: toBytes32Text(`goal ${v}`), priority: v, nonce: m.nonce };
      case "UpdateGoal":
        return { agentId, goalId: 0, priority: v, status: 1, nonce: m.nonce };
      case "AnswerFlag":
        return { agentId, flagId: m.v, answer: `answer ${m.v}`, nonce: m.nonce };
    }
  }

  /** The same signature sent to another action whose arguments have the same shape. */
  function twinCall(f: Awaited<ReturnType<typeof withPendingRecovery>>, action: SignedAction): string | undefined {
    const m = action.message as Record<string, bigint>;
    const i = f.registry.interface;
    const args: [bigint, bigint, bigint, string] = [m.agentId!, m.nonce!, m.deadline!, action.signature];
    if (action.primaryType === "GrantResurrectionConsent") return i.encodeFunctionData("cancelRecoveryBySig", args);
    if (action.primaryType === "CancelRecovery") return i.encodeFunctionData("revokeResurrectionConsentBySig", args);
    if (action.primaryType === "RevokeResurrectionConsent")
      return i.encodeFunctionData("grantResurrectionConsentBySig", args);
    return undefined;
  }

  it("no signature is ever accepted twice, nor for another action with the same fields", async () => {
    const submission = fc.record({
      index: fc.nat({ max: 7 }),
      twin: fc.boolean(),
      relayer: fc.constantFrom("relayer", "stranger", "operator"),
      agentDirect: fc.constantFrom(undefined, undefined, undefined, "grant", "revoke"),
    });
    const tally = { submitted: 0, accepted: 0, twins: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(agentMessage, { minLength: 1, maxLength: 8 }),
        fc.array(submission, { minLength: 1, maxLength: 16 }),
        async (messages, submissions) => {
          const f = await loadFixture(withPendingRecovery);
          const deadline = await deadlineAfter(100_000);
          const pool: SignedAction[] = [];
          for (const m of messages) {
            pool.push(
              await signAction(f.agentSigner, buildAction(m.type, f.deployment, { ...fieldsOf(f, m), deadline })),
            );
          }
          const accepted = new Set<string>();
          const spentNonces = new Set<string>();
          let lastSequence = 0;
          for (const s of submissions) {
            if (s.agentDirect === "grant")
              await attempt(() => f.registry.connect(f.agentKey).grantResurrectionConsent(f.agentId));
            if (s.agentDirect === "revoke")
              await attempt(() => f.registry.connect(f.agentKey).revokeResurrectionConsent(f.agentId));
            const action = pool[s.index % pool.length]!;
            const from = f[s.relayer];
            const twin = s.twin ? twinCall(f, action) : undefined;
            tally.submitted++;
            if (twin) {
              tally.twins++;
              const ok = await attempt(() => from.sendTransaction({ to: f.deployment.registry, data: twin }));
              expect(ok, `a ${action.primaryType} signature was accepted for another action`).to.equal(false);
              continue;
            }
            const consentNonce = await f.registry.consentNonce(f.agentId);
            const ok = await attempt(() =>
              from.sendTransaction({ to: relayCall(action).to, data: relayCall(action).data }),
            );
            if (!ok) continue;
            tally.accepted++;
            expect(accepted.has(action.signature), `${action.primaryType} signature accepted twice`).to.equal(false);
            accepted.add(action.signature);
            const m = action.message as Record<string, bigint>;
            if (action.primaryType === "BackupRecord") {
              expect(Number(m.sequence)).to.be.greaterThan(lastSequence);
              lastSequence = Number(m.sequence);
            } else if (action.primaryType.endsWith("ResurrectionConsent")) {
              expect(m.nonce).to.equal(consentNonce);
            } else {
              const key = `${action.domain.verifyingContract}:${m.nonce}`;
              expect(spentNonces.has(key), `nonce ${key} accepted twice`).to.equal(false);
              spentNonces.add(key);
            }
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(
      `      ${tally.submitted} submissions, ${tally.accepted} accepted once, ${tally.twins} sent to a twin action`,
    );
    expect(tally.accepted).to.be.greaterThan(0);
    expect(tally.twins).to.be.greaterThan(0);
  });
});
