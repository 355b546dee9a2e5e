export * from "./abi";
export * from "./actions";
export * from "./relay";
export * from "./signer";
export * from "./spending";
export * from "./text";
export * from "./typedData";
export * from "./verify";
