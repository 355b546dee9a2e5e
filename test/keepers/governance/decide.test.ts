import { expect } from "chai";
import type { Address } from "viem";
import {
  type ActionStatus,
  type DecideInput,
  decide,
  type EvolutionView,
  keys,
  type ProposalView,
} from "../../../keepers/governance/decide";

const GOVERNOR = "0x00000000000000000000000000000000000000aa" as Address;
const REGISTRY = "0x00000000000000000000000000000000000000bb" as Address;
const TARGET = "0x00000000000000000000000000000000000000cc" as Address;

function input(over: Partial<DecideInput> = {}): DecideInput {
  return {
    chainId: 31337,
    governor: GOVERNOR,
    registry: REGISTRY,
    head: 1_000n,
    now: 50_000n,
    confirmations: 3n,
    resimulateDistance: 20n,
    simulate: true,
    execute: true,
    proposals: [],
    evolutions: [],
    actions: new Map(),
    ...over,
  };
}

const proposal = (id: bigint, state: ProposalView["state"], eta = 0n, evolutionIds: bigint[] = []): ProposalView => ({
  id,
  state,
  eta,
  evolutionIds,
});

const evolution = (over: Partial<EvolutionView> = {}): EvolutionView => ({
  id: 1n,
  status: "Proposed",
  staged: true,
  stagedBlock: 900n,
  attestedForkBlock: 0n,
  target: TARGET,
  ...over,
});

describe("governance keeper: decide", () => {
  describe("proposals", () => {
    it("queues a succeeded proposal and executes a queued one once its eta has come", () => {
      const intents = decide(
        input({
          proposals: [
            proposal(1n, "Succeeded"),
            proposal(2n, "Queued", 40_000n),
            proposal(3n, "Queued", 60_000n),
            proposal(4n, "Active"),
          ],
        }),
      );
      expect(intents).to.deep.equal([
        { kind: "queue", key: keys.queue(31337, GOVERNOR, 1n), proposalId: 1n },
        { kind: "execute", key: keys.execute(31337, GOVERNOR, 2n), proposalId: 2n },
      ]);
    });

    it("never sends an action twice, but tries again what the submitter refused to send", () => {
      const actions = new Map<string, ActionStatus>([
        [keys.queue(31337, GOVERNOR, 1n), "confirmed"],
        [keys.execute(31337, GOVERNOR, 2n), "failed"],
        [keys.queue(31337, GOVERNOR, 3n), "submitted"],
        [keys.queue(31337, GOVERNOR, 4n), "rejected"],
      ]);
      const intents = decide(
        input({
          actions,
          proposals: [
            proposal(1n, "Succeeded"),
            proposal(2n, "Queued", 1n),
            proposal(3n, "Succeeded"),
            proposal(4n, "Succeeded"),
          ],
        }),
      );
      expect(intents.map((i) => i.kind === "queue" && i.proposalId)).to.deep.equal([4n]);
    });

    it("does nothing to proposals when execution is off", () => {
      expect(
        decide(input({ execute: false, proposals: [proposal(1n, "Succeeded"), proposal(2n, "Queued", 1n)] })),
      ).to.deep.equal([]);
    });
  });

  describe("evolutions", () => {
    it("simulates a staged evolution once the staging is deep enough, one simulation per tick", () => {
      const intents = decide(
        input({ evolutions: [evolution({ id: 1n }), evolution({ id: 2n }), evolution({ id: 3n, stagedBlock: 999n })] }),
      );
      expect(intents).to.deep.equal([{ kind: "simulate", reason: "new", evolutionId: 1n, forkBlock: 997n }]);
      expect(decide(input({ evolutions: [evolution({ staged: false })] }))).to.deep.equal([]);
      expect(decide(input({ simulate: false, evolutions: [evolution()] }))).to.deep.equal([]);
      expect(decide(input({ evolutions: [evolution({ status: "Attested", attestedForkBlock: 950n })] }))).to.deep.equal(
        [],
      );
    });

    it("simulates again before executing when the attestation is more than the set distance behind", () => {
      const linked = evolution({ status: "Linked", attestedForkBlock: 970n, linkedProposalId: 5n });
      const queued = proposal(5n, "Queued", 40_000n, [1n]);
      expect(decide(input({ proposals: [queued], evolutions: [linked] }))).to.deep.equal([
        { kind: "simulate", reason: "before-execution", evolutionId: 1n, forkBlock: 997n, proposalId: 5n },
      ]);
      const fresh = { ...linked, attestedForkBlock: 997n };
      expect(decide(input({ proposals: [queued], evolutions: [fresh] }))).to.deep.equal([
        { kind: "execute", key: keys.execute(31337, GOVERNOR, 5n, 997n), proposalId: 5n },
      ]);
      // A new attestation is a new attempt: a failed execution under the old one does not block it.
      const failed = new Map<string, ActionStatus>([[keys.execute(31337, GOVERNOR, 5n, 970n), "failed"]]);
      expect(decide(input({ proposals: [queued], evolutions: [fresh], actions: failed }))).to.have.length(1);
    });

    it("does not execute a proposal whose evolution failed its latest simulation", () => {
      const rejected = evolution({ status: "Rejected", attestedForkBlock: 990n, linkedProposalId: 5n });
      expect(decide(input({ proposals: [proposal(5n, "Queued", 1n, [1n])], evolutions: [rejected] }))).to.deep.equal(
        [],
      );
    });

    it("waits for the chain when the attestation is already at the fork block", () => {
      const linked = evolution({ status: "Linked", attestedForkBlock: 997n, linkedProposalId: 5n });
      const intents = decide(
        input({
          head: 1_030n,
          confirmations: 33n,
          proposals: [proposal(5n, "Queued", 1n, [1n])],
          evolutions: [linked],
        }),
      );
      expect(intents).to.deep.equal([]);
    });
  });
});
