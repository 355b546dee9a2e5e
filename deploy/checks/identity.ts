import { Contract } from "ethers";
import { expectRole } from "./roles";
import type { DeploymentCheck, Finding } from "./types";

/** The identity part: AgentRegistry's roles and the recovery delay. */
export const identityChecks: DeploymentCheck = async (ctx) => {
  const roles = ctx.record.roles ?? {};
  const findings: Finding[] = [
    ...(await expectRole(ctx, "AgentRegistry", "DEFAULT_ADMIN_ROLE", { timelock: roles.timelock })),
    ...(await expectRole(ctx, "AgentRegistry", "COUNCIL_ROLE", { "council Safe": roles.council })),
    ...(await expectRole(ctx, "AgentRegistry", "RELAYER_ROLE", { "relayer keeper": roles.relayer })),
  ];
  const registry = new Contract(
    ctx.record.contracts.AgentRegistry?.address ?? "",
    [
      "function recoveryDelay() view returns (uint32)",
      "function agentGoals() view returns (address)",
      "function councilFlags() view returns (address)",
    ],
    ctx.provider,
  );
  const delay = Number(await registry.getFunction("recoveryDelay")());
  if (delay !== ctx.params.Identity.recoveryDelay) {
    findings.push({
      subject: "AgentRegistry.recoveryDelay",
      problem: `is ${delay}, the parameters file says ${ctx.params.Identity.recoveryDelay}`,
    });
  }
  for (const [name, getter] of [
    ["AgentGoals", "agentGoals"],
    ["CouncilFlags", "councilFlags"],
  ] as const) {
    const onChain = (await registry.getFunction(getter)()) as string;
    const recorded = ctx.record.contracts[name]?.address;
    if (!recorded || onChain.toLowerCase() !== recorded.toLowerCase()) {
      findings.push({ subject: name, problem: `the registry names ${onChain}, the record ${recorded ?? "nothing"}` });
    }
  }
  return findings;
};
