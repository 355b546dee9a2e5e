import "@nomicfoundation/hardhat-toolbox";
import "@nomicfoundation/hardhat-ignition-ethers";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import { type HardhatUserConfig, subtask } from "hardhat/config";
import type { NetworkUserConfig } from "hardhat/types";

// The compiler is the npm `solc` package (solcjs/wasm): Hardhat never downloads one.
// Every pragma in contracts/ must accept this exact version.
const solcPkg = require("solc") as { version(): string };
const SOLC_LONG = solcPkg.version().replace(/\.Emscripten.*$/, "");
const SOLC_VERSION = SOLC_LONG.split("+")[0] as string;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(); // would need a download: fails offline
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: SOLC_LONG,
  };
});

/**
 * A public network from the environment. Without its RPC URL the network still exists, pointing at an address that
 * names the missing variable, so `--network sepolia` fails saying what to set instead of "network doesn't exist".
 */
function publicNetwork(rpcVar: string, chainId: number): NetworkUserConfig {
  const url = process.env[rpcVar] || `http://${rpcVar.toLowerCase().replaceAll("_", "-")}.is-not-set.invalid`;
  const key = process.env.DEPLOYER_PRIVATE_KEY;
  return { url, chainId, accounts: key ? [key] : [] };
}

const networks: HardhatUserConfig["networks"] = {
  hardhat: {
    // Tests and the demo deploy Safes and the whole suite; keep the default gas limit and EVM.
    hardfork: "prague",
  },
  localhost: { url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
};
networks.sepolia = publicNetwork("SEPOLIA_RPC_URL", 11155111);
networks.baseSepolia = publicNetwork("BASE_SEPOLIA_RPC_URL", 84532);

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      viaIR: true,
      evmVersion: "prague",
    },
  },
  networks,
  paths: {
    sources: "./contracts",
    tests: "./test",
    ignition: "./deploy",
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  mocha: { timeout: 120_000 },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
    outputJSON: true,
    outputJSONFile: "gas-report.json",
    noColors: true,
  },
  // One Etherscan (v2) API key serves Sepolia and Base Sepolia.
  etherscan: { apiKey: process.env.ETHERSCAN_API_KEY ?? "" },
  sourcify: { enabled: false },
};

export default config;
