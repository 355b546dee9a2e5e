import type { JsonRpcProvider } from "ethers";
import type { DeploymentParameters } from "../parameters";
import type { DeploymentRecord } from "../records";

/** One problem a deployment check found; `subject` names the contract, role or parameter. */
export interface Finding {
  subject: string;
  problem: string;
}

export interface CheckContext {
  provider: JsonRpcProvider;
  record: DeploymentRecord;
  params: DeploymentParameters;
  /** The first block of the deployment: role events are read from here. */
  fromBlock: number;
  /** `<contract>:<role id>` of every role a part's check compared with its expected holders (filled by expectRole). */
  checkedRoles?: Set<string>;
}

/** A part's checks: every privilege it hands out and every parameter it was deployed with. */
export type DeploymentCheck = (ctx: CheckContext) => Promise<Finding[]>;
