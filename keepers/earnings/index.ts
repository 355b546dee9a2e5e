// The public surface of keepers/earnings: the keeper, its pure decisions, trees, publication and chain reading.
export * from "./abi";
export * from "./chain";
export * from "./config";
export * from "./db";
export * from "./decide";
export * from "./publish";
export * from "./service";
export * from "./tree";
