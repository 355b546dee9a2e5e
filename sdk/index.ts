export * from "./actions";
export * from "./signer";
export * from "./text";
export * from "./typedData";
export * from "./verify";
