/**
 * The governance keeper.
 *
 *   GOVERNOR_ADDRESS=0x… RPC_URLS=http://127.0.0.1:8545 CHAIN_ID=31337 KEEPER_PRIVATE_KEY=0x… \
 *     npx ts-node keepers/governance/main.ts
 *
 * See docs/governance.md for every variable.
 */
import { runService } from "../shared";
import { GovernanceKeeper } from "./service";

void runService(new GovernanceKeeper());
