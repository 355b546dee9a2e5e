import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Contract, ContractFactory, type InterfaceAbi, ZeroAddress } from "ethers";
import hre from "hardhat";

/*
 * A Safe v1.4.1 on the in-process chain, from @safe-global/safe-contracts' own artifacts, and a transaction executed
 * with its owners' EIP-712 signatures: how the guardian Safe vetoes a proposal.
 */

const ARTIFACTS = "@safe-global/safe-contracts/build/artifacts/contracts";

function artifact(path: string): { abi: InterfaceAbi; bytecode: string } {
  return require(`${ARTIFACTS}/${path}`) as { abi: InterfaceAbi; bytecode: string };
}

export async function deploySafe(
  deployer: HardhatEthersSigner,
  owners: string[],
  threshold: number,
): Promise<Contract> {
  const singletonArtifact = artifact("Safe.sol/Safe.json");
  const factoryArtifact = artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json");
  const singleton = await new ContractFactory(singletonArtifact.abi, singletonArtifact.bytecode, deployer).deploy();
  const factory = (await new ContractFactory(
    factoryArtifact.abi,
    factoryArtifact.bytecode,
    deployer,
  ).deploy()) as Contract;
  const setup = singleton.interface.encodeFunctionData("setup", [
    owners,
    threshold,
    ZeroAddress,
    "0x",
    ZeroAddress,
    ZeroAddress,
    0,
    ZeroAddress,
  ]);
  const create = factory.getFunction("createProxyWithNonce");
  const address = (await create.staticCall(await singleton.getAddress(), setup, 0)) as string;
  await create(await singleton.getAddress(), setup, 0);
  return new Contract(address, singletonArtifact.abi, deployer);
}

/** Executes `to.call(data)` from the Safe with the signatures of `signers` (at least the threshold). */
export async function execFromSafe(
  safe: Contract,
  signers: HardhatEthersSigner[],
  to: string,
  data: string,
  sender: HardhatEthersSigner,
) {
  const { chainId } = await hre.ethers.provider.getNetwork();
  const nonce = (await safe.getFunction("nonce")()) as bigint;
  const tx = {
    to,
    value: 0,
    data,
    operation: 0,
    safeTxGas: 0,
    baseGas: 0,
    gasPrice: 0,
    gasToken: ZeroAddress,
    refundReceiver: ZeroAddress,
    nonce,
  };
  const types = {
    SafeTx: [
      { name: "to", type: "address" },
      { name: "value", type: "uint256" },
      { name: "data", type: "bytes" },
      { name: "operation", type: "uint8" },
      { name: "safeTxGas", type: "uint256" },
      { name: "baseGas", type: "uint256" },
      { name: "gasPrice", type: "uint256" },
      { name: "gasToken", type: "address" },
      { name: "refundReceiver", type: "address" },
      { name: "nonce", type: "uint256" },
    ],
  };
  const domain = { chainId, verifyingContract: await safe.getAddress() };
  const sorted = [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const signatures = await Promise.all(sorted.map((s) => s.signTypedData(domain, types, tx)));
  return safe.connect(sender).getFunction("execTransaction")(
    tx.to,
    tx.value,
    tx.data,
    tx.operation,
    tx.safeTxGas,
    tx.baseGas,
    tx.gasPrice,
    tx.gasToken,
    tx.refundReceiver,
    `0x${signatures.map((s) => s.slice(2)).join("")}`,
  );
}
