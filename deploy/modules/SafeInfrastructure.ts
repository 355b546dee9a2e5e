import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Artifact } from "@nomicfoundation/ignition-core";

/** A Safe v1.4.1 build artifact shipped in @safe-global/safe-contracts (deployed as is, never recompiled). */
function safeArtifact(file: string): Artifact {
  return require(`@safe-global/safe-contracts/build/artifacts/contracts/${file}`) as Artifact;
}

/**
 * The Safe v1.4.1 contracts, for local chains only: public networks already have them at their canonical addresses
 * (@safe-global/safe-deployments), and protocol-kit finds those by itself. On a local chain, pass the addresses this
 * module returns to protocol-kit as `contractNetworks` (sdk/safe.ts builds it).
 */
export default buildModule("SafeInfrastructure", (m) => {
  const safeSingleton = m.contract("Safe", safeArtifact("Safe.sol/Safe.json"));
  const safeProxyFactory = m.contract(
    "SafeProxyFactory",
    safeArtifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json"),
  );
  const multiSend = m.contract("MultiSend", safeArtifact("libraries/MultiSend.sol/MultiSend.json"));
  const multiSendCallOnly = m.contract(
    "MultiSendCallOnly",
    safeArtifact("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json"),
  );
  const fallbackHandler = m.contract(
    "CompatibilityFallbackHandler",
    safeArtifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"),
  );
  const signMessageLib = m.contract("SignMessageLib", safeArtifact("libraries/SignMessageLib.sol/SignMessageLib.json"));
  const createCall = m.contract("CreateCall", safeArtifact("libraries/CreateCall.sol/CreateCall.json"));
  const simulateTxAccessor = m.contract(
    "SimulateTxAccessor",
    safeArtifact("accessors/SimulateTxAccessor.sol/SimulateTxAccessor.json"),
  );
  return {
    safeSingleton,
    safeProxyFactory,
    multiSend,
    multiSendCallOnly,
    fallbackHandler,
    signMessageLib,
    createCall,
    simulateTxAccessor,
  };
});
