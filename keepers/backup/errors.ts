import { CovenantError, type CovenantErrorOptions } from "../shared";

/*
 * Every refusal of the backup keeper is a BackupError with a stable code. Nothing here is retryable except what
 * depends on a service that may come back (a store or an RPC that did not answer); a tampered blob, a wrong key or
 * a missing consent stays wrong however often it is tried.
 */

export type BackupErrorCode =
  | "ARCHIVE_INVALID"
  | "ARCHIVE_UNSAFE_PATH"
  | "ARCHIVE_LINK"
  | "FOLDER_INVALID"
  | "ENVELOPE_INVALID"
  | "DECRYPT_FAILED"
  | "PLAINTEXT_HASH_MISMATCH"
  | "BLOB_HASH_MISMATCH"
  | "BLOB_NOT_FOUND"
  | "STORE_UNAVAILABLE"
  | "STORE_REFUSED"
  | "KEYSTORE_INVALID"
  | "KEYSTORE_PASSWORD"
  | "KEY_UNKNOWN"
  | "NO_CONSENT"
  | "NO_BACKUP"
  | "RECORD_INVALID"
  | "RECORD_OTHER_AGENT"
  | "TARGET_NOT_EMPTY"
  | "VERIFY_FAILED";

export class BackupError extends CovenantError {
  override name = "BackupError";
  declare readonly code: BackupErrorCode;

  constructor(
    shortMessage: string,
    options: Omit<CovenantErrorOptions, "code" | "retryable"> & {
      code: BackupErrorCode;
      retryable?: boolean;
    },
  ) {
    super(shortMessage, { ...options, retryable: options.retryable ?? false });
  }
}
