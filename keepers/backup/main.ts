/**
 * The backup keeper process. Configuration from the environment (keepers/backup/config.ts, docs/backup.md):
 *
 *   RPC_URLS=… CHAIN_ID=… REGISTRY_ADDRESS=… MEMORY_DIR=… KEYSTORE_DIR=… AGENT_KEYSTORE_PASSWORD=… \
 *     KEEPER_PRIVATE_KEY=… npm run keeper:backup
 */
import { runService } from "../shared";
import { BackupKeeper } from "./service";

void runService(new BackupKeeper());
