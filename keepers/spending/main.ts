/**
 * The spending keeper as a process: `node -r ts-node/register keepers/spending/main.ts` (configuration from the
 * environment, see docs/spending.md). Exit codes: 0 clean stop, 1 fatal error, 78 bad configuration.
 */
import { runService } from "../shared";
import { SpendingKeeper } from "./keeper";

void runService(new SpendingKeeper());
