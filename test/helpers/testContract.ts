import { type Abi, type Address, createWalletClient, type Hex, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/*
 * A small contract for keeper tests, compiled at test time with the npm `solc` compiler the project
 * already uses (about 0.2 s), so the source below is the whole truth of what the tests deploy.
 */
export const EMITTER_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Emitter {
    event Ping(uint256 indexed id, address indexed from, string note);
    event Pong(uint256 indexed id);
    error Refused(uint256 code, address caller);

    bool public claimed;
    uint256 public counter;

    function ping(uint256 id, string calldata note) external {
        emit Ping(id, msg.sender, note);
    }

    function pingMany(uint256 firstId, uint256 count) external {
        for (uint256 i = 0; i < count; i++) emit Ping(firstId + i, msg.sender, "");
    }

    function pong(uint256 id) external {
        emit Pong(id);
    }

    function refuse(uint256 code) external view {
        revert Refused(code, msg.sender);
    }

    function fail(string calldata why) external pure {
        revert(why);
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    function claim() external {
        require(!claimed, "Emitter: already claimed");
        claimed = true;
    }

    function increment() external {
        counter += 1;
    }

    receive() external payable {}
}
`;

let compiled: { abi: Abi; bytecode: Hex } | undefined;

export function compileEmitter(): { abi: Abi; bytecode: Hex } {
  if (compiled) return compiled;
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { "Emitter.sol": { content: EMITTER_SOURCE } },
    settings: { evmVersion: "cancun", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts["Emitter.sol"]!.Emitter!;
  compiled = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  return compiled;
}

/** Hardhat's well-known dev accounts (mnemonic "test test … junk"): local chains only. */
export const DEV_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
] as const satisfies readonly Hex[];

export function devWallet(url: string, index = 0) {
  return createWalletClient({ account: privateKeyToAccount(DEV_KEYS[index]!), transport: http(url) }).extend(
    publicActions,
  );
}

/** Deploys Emitter from dev account `index` and returns its address. */
export async function deployEmitter(url: string, index = 0): Promise<Address> {
  const { abi, bytecode } = compileEmitter();
  const wallet = devWallet(url, index);
  const chainId = await wallet.getChainId();
  const hash = await wallet.deployContract({
    abi,
    bytecode,
    chain: {
      id: chainId,
      name: "local",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [url] } },
    },
  });
  const receipt = await wallet.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (!receipt.contractAddress) throw new Error("Emitter deployment failed");
  return receipt.contractAddress;
}
