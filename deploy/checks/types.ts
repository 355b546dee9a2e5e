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
}

/** A part's checks: every privilege it hands out and every parameter it was deployed with. */
export type DeploymentCheck = (ctx: CheckContext) => Promise<Finding[]>;
