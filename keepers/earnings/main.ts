/**
 * The earnings keeper process. Configuration from the environment (see keepers/earnings/config.ts and
 * docs/treasury.md):
 *
 *   RPC_URLS=… CHAIN_ID=… ROUTER_ADDRESS=… DISTRIBUTOR_ADDRESS=… START_BLOCK=… KEEPER_PRIVATE_KEY=… \
 *     npx ts-node keepers/earnings/main.ts
 */
import { runService } from "../shared";
import { EarningsKeeper } from "./service";

void runService(new EarningsKeeper());
