// The public surface of keepers/backup.
export * from "./archive";
export * from "./chain";
export * from "./config";
export * from "./contentStore";
export * from "./db";
export * from "./decide";
export * from "./envelope";
export * from "./errors";
export * from "./folder";
export * from "./keystore";
export * from "./pipeline";
export * from "./record";
export * from "./service";
