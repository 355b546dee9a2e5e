/**
 * The tx-executor process: `npm run executor` (configuration from the environment, see
 * docs/tx-executor.md). Stops gracefully on SIGTERM.
 */
import { runService } from "../shared";
import { TxExecutorService } from "./service";

void runService(new TxExecutorService());
