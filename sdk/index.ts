export * from "./abi";
export * from "./actions";
export * from "./governance";
export * from "./relay";
export * from "./signer";
export * from "./text";
export * from "./typedData";
export * from "./verify";
