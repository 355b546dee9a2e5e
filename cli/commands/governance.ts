import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  getAddress,
  type Interface,
  isAddress,
  isHexString,
  keccak256,
  type TransactionReceipt,
  type Wallet,
} from "ethers";
import type { Address, Hex } from "viem";
import { addressOf } from "../../deploy/records";
import {
  ballotTypes,
  EVOLUTION_STATUSES,
  evolutionActions,
  governorDomain,
  HOUSES,
  PROPOSAL_STATES,
  rollbackActions,
  Support,
} from "../../sdk";
import {
  type CovenantGovernor,
  CovenantGovernor__factory,
  CovenantTimelock__factory,
  type CovenantVotes,
  CovenantVotes__factory,
  type EvolutionRegistry,
  EvolutionRegistry__factory,
} from "../../typechain-types";
import { type CliContext, CliError, loadWallet, printJson, uintArg } from "../context";
import { describeError } from "../signed";

type WithContext = <T extends unknown[]>(
  fn: (ctx: CliContext, ...args: T) => Promise<void>,
) => (...args: T) => Promise<void>;

interface Gov {
  governor: CovenantGovernor;
  evolution: EvolutionRegistry;
  votes: CovenantVotes;
}

const interfaces: Interface[] = [
  CovenantGovernor__factory.createInterface(),
  EvolutionRegistry__factory.createInterface(),
  CovenantVotes__factory.createInterface(),
  CovenantTimelock__factory.createInterface(),
];

/** The governance contracts of the deployment record, or a clear error when governance is not deployed. */
function gov(ctx: CliContext): Gov {
  try {
    return {
      governor: CovenantGovernor__factory.connect(addressOf(ctx.record, "CovenantGovernor"), ctx.provider),
      evolution: EvolutionRegistry__factory.connect(addressOf(ctx.record, "EvolutionRegistry"), ctx.provider),
      votes: CovenantVotes__factory.connect(addressOf(ctx.record, "CovenantVotes"), ctx.provider),
    };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** A revert as "ErrorName(args)" from the governance ABIs, else the identity ones, else the message. */
function describeGovError(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) {
      for (const iface of interfaces) {
        try {
          const parsed = iface.parseError(data);
          if (parsed) return `${parsed.name}(${parsed.args.map((a) => String(a)).join(", ")})`;
        } catch {
          // not this contract's error
        }
      }
    }
    current = (current as { error?: unknown; info?: unknown }).error ?? (current as { info?: unknown }).info;
  }
  return describeError(err);
}

async function send(
  ctx: CliContext,
  sender: Wallet,
  tx: { to: string; data: string; value?: bigint },
  label: string,
): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt | null;
  try {
    receipt = await (await sender.sendTransaction(tx)).wait();
  } catch (err) {
    throw new CliError(`${label} failed: ${describeGovError(err)}`, 1);
  }
  if (!receipt) throw new CliError(`${label}: no receipt`, 1);
  if (ctx.options.json)
    printJson({ action: label, tx: receipt.hash, block: receipt.blockNumber, gasUsed: receipt.gasUsed });
  else console.log(`${label}: tx ${receipt.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
  return receipt;
}

/** "for" | "against" | "abstain" | 0 | 1 | 2 → the support value. */
export function supportArg(value: string): number {
  const named: Record<string, number> = { for: Support.For, against: Support.Against, abstain: Support.Abstain };
  const support = named[value.toLowerCase()] ?? (/^[0-2]$/.test(value) ? Number(value) : undefined);
  if (support === undefined) throw new CliError(`support must be for, against or abstain (or 1, 0, 2), got "${value}"`);
  return support;
}

/** `target:value:calldata` (value in wei) → one call of a proposal. */
export function callArg(value: string, previous: { target: string; value: bigint; data: string }[] = []) {
  const [target, amount, data, ...rest] = value.split(":");
  if (!target || !isAddress(target) || amount === undefined || !/^\d+$/.test(amount) || rest.length > 0) {
    throw new CliError(`--call must be <target address>:<value in wei>:<calldata hex>, got "${value}"`);
  }
  const calldata = data ?? "0x";
  if (!isHexString(calldata) || calldata.length % 2 !== 0)
    throw new CliError(`calldata "${calldata}" is not hex bytes`);
  return [...previous, { target: getAddress(target), value: BigInt(amount), data: calldata }];
}

/** Init code from a file (hex text or an artifact JSON with `bytecode`) or a 0x string. */
function initCodeArg(source: string): string {
  if (isHexString(source)) return source;
  if (!existsSync(source)) throw new CliError(`no init code file ${source}`);
  const text = readFileSync(source, "utf8").trim();
  const code = text.startsWith("{") ? (JSON.parse(text) as { bytecode?: string }).bytecode : text;
  if (!code || !isHexString(code) || code.length <= 2)
    throw new CliError(`${source} holds no init code (hex or an artifact)`);
  return code;
}

async function showProposal(ctx: CliContext, id: bigint): Promise<void> {
  const { governor } = gov(ctx);
  let state: bigint;
  try {
    state = await governor.state(id);
  } catch (err) {
    throw new CliError(describeGovError(err));
  }
  const [targets, values, calldatas, descriptionHash] = await governor.proposalDetails(id);
  const [risk, guardianChange, scale, extraDelay] = await governor.proposalRequirements(id);
  const human = await governor.humanHouseVotes(id);
  const agent = await governor.agentHouseVotes(id);
  const view = {
    proposalId: id,
    state: PROPOSAL_STATES[Number(state)],
    proposer: await governor.proposalProposer(id),
    snapshot: await governor.proposalSnapshot(id),
    deadline: await governor.proposalDeadline(id),
    eta: await governor.proposalEta(id),
    requirements: { riskScore: risk, guardianChange, quorumScaleBps: scale, extraDelaySeconds: extraDelay },
    humans: { for: human[0], against: human[1], abstain: human[2], quorum: human[3] },
    agents: {
      for: agent[0],
      against: agent[1],
      abstain: agent[2],
      quorum: agent[3],
      binding: await governor.agentHouseBinding(id),
    },
    calls: targets.map((t, i) => ({ target: t, value: values[i], calldata: calldatas[i] })),
    descriptionHash,
  };
  if (ctx.options.json) {
    printJson(view);
    return;
  }
  console.log(`proposal ${id}: ${view.state} (proposer ${view.proposer})`);
  console.log(
    `  voting ${new Date(Number(view.snapshot) * 1000).toISOString()} → ${new Date(Number(view.deadline) * 1000).toISOString()}`,
  );
  if (view.eta > 0n) console.log(`  executable from ${new Date(Number(view.eta) * 1000).toISOString()}`);
  console.log(`  humans: ${human[0]} for, ${human[1]} against, ${human[2]} abstain (quorum ${human[3]})`);
  console.log(
    `  agents: ${agent[0]} for, ${agent[1]} against, ${agent[2]} abstain (quorum ${agent[3]}, ${view.agents.binding ? "binding" : "advisory"})`,
  );
  if (risk > 0n || guardianChange) {
    console.log(
      `  risk ${risk}: quorum ×${Number(scale) / 10_000}, +${Number(extraDelay) / 3600} h${guardianChange ? ", replaces the guardian (cannot be vetoed)" : ""}`,
    );
  }
  for (const c of view.calls) console.log(`  call ${c.target} value ${c.value} data ${c.calldata}`);
}

/**
 * `covenant gov …` and `covenant evolution …`: everything a voter, a relayer or the guardian does by hand. Voting keys
 * come from COVENANT_VOTER_KEY (humans), the agent key (agents' ballots), COVENANT_GUARDIAN_KEY or `--calldata-only`
 * for the guardian Safe.
 */
export function registerGovernanceCommands(program: Command, withContext: WithContext): void {
  const g = program.command("gov").description("proposals and votes of the two houses");

  g.command("show <proposalId>")
    .description("state, votes per house, requirements and calls of a proposal")
    .action(withContext(async (ctx, id: string) => showProposal(ctx, uintArg(id, "proposal id"))));

  g.command("weight <address>")
    .description("an account's house and voting weight now")
    .action(
      withContext(async (ctx, account: string) => {
        if (!isAddress(account)) throw new CliError(`"${account}" is not an address`);
        const { votes } = gov(ctx);
        const house = HOUSES[Number(await votes.houseOf(account))];
        const weight = await votes.getVotes(account);
        if (ctx.options.json) printJson({ account: getAddress(account), house, weight });
        else console.log(`${getAddress(account)}: ${house} house, weight ${weight}`);
      }),
    );

  g.command("propose")
    .description("propose calls (repeat --call target:value:calldata) with a description")
    .requiredOption("--call <target:value:calldata>", "a call of the proposal (repeatable)", callArg)
    .requiredOption("--description <text>", "what the proposal does")
    .option("--voter-key-env <VAR>", "environment variable holding the proposer's key", "COVENANT_VOTER_KEY")
    .action(
      withContext(async (ctx, opts: { call: ReturnType<typeof callArg>; description: string; voterKeyEnv: string }) => {
        const { governor } = gov(ctx);
        const wallet = await loadWallet(ctx, opts.voterKeyEnv, ctx.options.keystore);
        const data = governor.interface.encodeFunctionData("propose", [
          opts.call.map((c) => c.target),
          opts.call.map((c) => c.value),
          opts.call.map((c) => c.data),
          opts.description,
        ]);
        const receipt = await send(ctx, wallet, { to: await governor.getAddress(), data }, "propose");
        const created = receipt.logs
          .map((l) => {
            try {
              return governor.interface.parseLog(l);
            } catch {
              return null;
            }
          })
          .find((l) => l?.name === "ProposalCreated");
        if (created && !ctx.options.json) console.log(`proposal id: ${created.args.proposalId}`);
      }),
    );

  g.command("vote <proposalId> <support>")
    .description("vote for, against or abstain from the voter key")
    .option("--reason <text>", "a reason, recorded in the VoteCast event")
    .option("--voter-key-env <VAR>", "environment variable holding the voter's key", "COVENANT_VOTER_KEY")
    .action(
      withContext(async (ctx, id: string, support: string, opts: { reason?: string; voterKeyEnv: string }) => {
        const { governor } = gov(ctx);
        const wallet = await loadWallet(ctx, opts.voterKeyEnv, ctx.options.keystore);
        const proposalId = uintArg(id, "proposal id");
        const s = supportArg(support);
        const data = opts.reason
          ? governor.interface.encodeFunctionData("castVoteWithReason", [proposalId, s, opts.reason])
          : governor.interface.encodeFunctionData("castVote", [proposalId, s]);
        await send(ctx, wallet, { to: await governor.getAddress(), data }, "vote");
      }),
    );

  g.command("sign-vote <proposalId> <support>")
    .description("an agent signs its ballot with the agent key, for a relayer (castVoteBySig)")
    .option("--out <file>", "write the signed ballot here (default: print it)")
    .action(
      withContext(async (ctx, id: string, support: string, opts: { out?: string }) => {
        const { governor } = gov(ctx);
        const wallet = await loadWallet(ctx, ctx.options.keyEnv, ctx.options.keystore);
        const proposalId = uintArg(id, "proposal id");
        const s = supportArg(support);
        const nonce = await governor.nonces(wallet.address);
        const domain = governorDomain(ctx.chainId, (await governor.getAddress()) as Address);
        const message = { proposalId, support: s, voter: wallet.address, nonce };
        const signature = await wallet.signTypedData(domain, { Ballot: [...ballotTypes.Ballot] }, message);
        const ballot = JSON.stringify(
          { governor: domain.verifyingContract, chainId: ctx.chainId, ...message, signature },
          (_k, v) => (typeof v === "bigint" ? v.toString() : v),
          2,
        );
        if (opts.out) {
          writeFileSync(opts.out, `${ballot}\n`);
          console.log(`signed ballot written to ${opts.out}`);
        } else console.log(ballot);
      }),
    );

  g.command("relay-vote <file>")
    .description("send a signed ballot (castVoteBySig) from the relayer key")
    .option("--relayer-key-env <VAR>", "environment variable holding the relayer's key", "COVENANT_RELAYER_KEY")
    .action(
      withContext(async (ctx, file: string, opts: { relayerKeyEnv: string }) => {
        let ballot: {
          governor: string;
          chainId: number;
          proposalId: string;
          support: number;
          voter: string;
          signature: string;
        };
        try {
          ballot = JSON.parse(readFileSync(file, "utf8"));
        } catch (err) {
          throw new CliError(`cannot read ballot ${file}: ${(err as Error).message}`);
        }
        const { governor } = gov(ctx);
        if (ballot.chainId !== ctx.chainId || getAddress(ballot.governor) !== getAddress(await governor.getAddress())) {
          throw new CliError(
            `${file} is a ballot for governor ${ballot.governor} on chain ${ballot.chainId}, not this one`,
          );
        }
        const wallet = await loadWallet(ctx, opts.relayerKeyEnv);
        const data = governor.interface.encodeFunctionData("castVoteBySig", [
          BigInt(ballot.proposalId),
          ballot.support,
          ballot.voter,
          ballot.signature,
        ]);
        await send(ctx, wallet, { to: await governor.getAddress(), data }, "castVoteBySig");
      }),
    );

  for (const [name, what] of [
    ["queue", "queue a succeeded proposal in the timelock"],
    ["execute", "execute a queued proposal once its eta has passed"],
  ] as const) {
    g.command(`${name} <proposalId>`)
      .description(what)
      .option("--sender-key-env <VAR>", "environment variable holding the sender's key", "COVENANT_VOTER_KEY")
      .action(
        withContext(async (ctx, id: string, opts: { senderKeyEnv: string }) => {
          const { governor } = gov(ctx);
          const wallet = await loadWallet(ctx, opts.senderKeyEnv, ctx.options.keystore);
          const proposalId = uintArg(id, "proposal id");
          const data =
            name === "queue"
              ? governor.interface.encodeFunctionData("queue(uint256)", [proposalId])
              : governor.interface.encodeFunctionData("execute(uint256)", [proposalId]);
          await send(ctx, wallet, { to: await governor.getAddress(), data }, name);
        }),
      );
  }

  g.command("cancel <proposalId>")
    .description("the guardian vetoes a proposal (print the Safe transaction with --calldata-only)")
    .option("--calldata-only", "print the Safe transaction instead of sending it")
    .option("--guardian-key-env <VAR>", "environment variable holding a guardian key", "COVENANT_GUARDIAN_KEY")
    .action(
      withContext(async (ctx, id: string, opts: { calldataOnly?: boolean; guardianKeyEnv: string }) => {
        const { governor } = gov(ctx);
        const to = await governor.getAddress();
        const data = governor.interface.encodeFunctionData("cancel(uint256)", [uintArg(id, "proposal id")]);
        if (opts.calldataOnly) {
          console.log(JSON.stringify({ to, value: "0", data }, null, 2));
          return;
        }
        await send(ctx, await loadWallet(ctx, opts.guardianKeyEnv), { to, data }, "cancel");
      }),
    );

  const e = program.command("evolution").description("code changes: proposed by hash, simulated, voted, deployed");

  e.command("propose <initCode>")
    .description("propose new code by its hash (init code: a hex string, a hex file or an artifact JSON)")
    .requiredOption("--risk <0-100>", "risk score: raises the quorum and the delay")
    .requiredOption("--spec <uri>", "where the change is described (content address)")
    .option(
      "--target <address>",
      "the component it upgrades (a UUPS proxy)",
      "0x0000000000000000000000000000000000000000",
    )
    .option("--voter-key-env <VAR>", "environment variable holding the proposer's key", "COVENANT_VOTER_KEY")
    .action(
      withContext(
        async (ctx, source: string, opts: { risk: string; spec: string; target: string; voterKeyEnv: string }) => {
          const { evolution } = gov(ctx);
          const risk = Number(uintArg(opts.risk, "risk"));
          if (risk > 100) throw new CliError(`risk must be 0..100, got ${risk}`);
          if (!isAddress(opts.target)) throw new CliError(`--target "${opts.target}" is not an address`);
          const code = initCodeArg(source);
          const wallet = await loadWallet(ctx, opts.voterKeyEnv, ctx.options.keystore);
          const data = evolution.interface.encodeFunctionData("propose", [
            keccak256(code),
            risk,
            opts.spec,
            opts.target,
          ]);
          await send(ctx, wallet, { to: await evolution.getAddress(), data }, "evolution propose");
          if (!ctx.options.json)
            console.log(`evolution id: ${await evolution.evolutionCount()}; init code hash ${keccak256(code)}`);
        },
      ),
    );

  e.command("stage <evolutionId> <initCode>")
    .description("supply the init code of a proposed evolution (anyone may; it must match the hash)")
    .option("--sender-key-env <VAR>", "environment variable holding the sender's key", "COVENANT_VOTER_KEY")
    .action(
      withContext(async (ctx, id: string, source: string, opts: { senderKeyEnv: string }) => {
        const { evolution } = gov(ctx);
        const wallet = await loadWallet(ctx, opts.senderKeyEnv, ctx.options.keystore);
        const data = evolution.interface.encodeFunctionData("stageInitCode", [
          uintArg(id, "evolution id"),
          initCodeArg(source),
        ]);
        await send(ctx, wallet, { to: await evolution.getAddress(), data }, "evolution stage");
      }),
    );

  e.command("show <evolutionId>")
    .description("an evolution and its latest attestation")
    .action(
      withContext(async (ctx, id: string) => {
        const { evolution } = gov(ctx);
        const evolutionId = uintArg(id, "evolution id");
        let ev: Awaited<ReturnType<EvolutionRegistry["getEvolution"]>>;
        try {
          ev = await evolution.getEvolution(evolutionId);
        } catch (err) {
          throw new CliError(describeGovError(err));
        }
        const a = await evolution.latestAttestation(evolutionId);
        const view = {
          evolutionId,
          status: EVOLUTION_STATUSES[Number(ev.status)],
          initCodeHash: ev.initCodeHash,
          riskScore: ev.riskScore,
          target: ev.target,
          specURI: ev.specURI,
          proposer: ev.proposer,
          staged: ev.stagedBlock > 0n,
          governanceProposalId: ev.governanceProposalId,
          predictedAddress: await evolution.predictedAddress(evolutionId),
          deployed: ev.deployed,
          attestation:
            a.forkBlock === 0n
              ? null
              : {
                  passed: a.passed,
                  forkBlock: a.forkBlock,
                  reportHash: a.reportHash,
                  testsRun: a.testsRun,
                  invariantsChecked: a.invariantsChecked,
                },
        };
        if (ctx.options.json) printJson(view);
        else {
          console.log(`evolution ${evolutionId}: ${view.status} (risk ${view.riskScore}) ${view.specURI}`);
          console.log(
            `  code ${view.initCodeHash}, ${view.staged ? "staged" : "not staged"}, deploys to ${view.predictedAddress}`,
          );
          if (view.attestation) {
            console.log(
              `  simulation at block ${a.forkBlock}: ${a.passed ? "passed" : "FAILED"}, ${a.testsRun} steps, ${a.invariantsChecked} invariants, report sha256 ${a.reportHash}`,
            );
          }
          if (ev.governanceProposalId > 0n) console.log(`  governance proposal ${ev.governanceProposalId}`);
        }
      }),
    );

  e.command("actions <evolutionId>")
    .description("the calls of the governance proposal that deploys (or --rollback-to <impl> rolls back) the evolution")
    .option("--rollback-to <implementation>", "build the rollback instead, back to this implementation")
    .action(
      withContext(async (ctx, id: string, opts: { rollbackTo?: string }) => {
        const { evolution } = gov(ctx);
        const evolutionId = uintArg(id, "evolution id");
        const ev = await evolution.getEvolution(evolutionId).catch((err: unknown) => {
          throw new CliError(describeGovError(err));
        });
        const registry = (await evolution.getAddress()) as Address;
        const actions = opts.rollbackTo
          ? rollbackActions({
              registry,
              evolutionId,
              target: ev.target as Address,
              previous: getAddress(opts.rollbackTo) as Address,
            })
          : evolutionActions({
              registry,
              evolutionId,
              target: ev.target as Address,
              predicted: (await evolution.predictedAddress(evolutionId)) as Address,
            });
        const calls = actions.targets.map((t, i) => `${t}:${actions.values[i]}:${actions.calldatas[i] as Hex}`);
        if (ctx.options.json) printJson({ ...actions, calls });
        else {
          console.log("covenant gov propose \\");
          for (const c of calls) console.log(`  --call ${c} \\`);
          console.log(`  --description "<what this evolution does>"`);
        }
      }),
    );
}
