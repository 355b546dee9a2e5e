import { expect } from "chai";
import { contractRecords, type IgnitionDeployment } from "../../deploy/ignition";
import type { DeploymentRecord } from "../../deploy/records";
import { isAlreadyVerified, type VerifyFn, verifyDeployment } from "../../deploy/verify";

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;

function record(): DeploymentRecord {
  return {
    chainId: 11155111,
    network: "sepolia",
    contracts: {
      AgentRegistry: {
        address: A(1) as `0x${string}`,
        contractName: "AgentRegistry",
        constructorArgs: [A(9), A(8), 1],
      },
      CommonsPolicy: {
        address: A(2) as `0x${string}`,
        contractName: "CommonsPolicyProxy",
        constructorArgs: [A(3), "0x"],
      },
      Treasury: {
        address: A(4) as `0x${string}`,
        contractName: "Treasury",
        constructorArgs: [A(1), A(5), A(9), "86400"],
      },
    },
  };
}

describe("Source verification (deploy/verify.ts)", () => {
  it("without an API key sends nothing and says so", async () => {
    const calls: unknown[] = [];
    const lines: string[] = [];
    const result = await verifyDeployment(record(), {
      apiKey: undefined,
      verify: async (a) => {
        calls.push(a);
      },
      log: (l) => lines.push(l),
    });
    expect(result).to.equal(undefined);
    expect(calls).to.deep.equal([]);
    expect(lines).to.deep.equal([
      "verify: skipped, ETHERSCAN_API_KEY is not set (set it and run the deploy again to verify only)",
    ]);
  });

  it("verifies each contract with its address, constructor arguments and qualified name", async () => {
    const calls: Parameters<VerifyFn>[0][] = [];
    const result = await verifyDeployment(record(), {
      apiKey: "KEY",
      verify: async (a) => {
        calls.push(a);
      },
      qualifiedName: (n) =>
        n === "CommonsPolicyProxy" ? "contracts/evolution/CommonsPolicyProxy.sol:CommonsPolicyProxy" : undefined,
      log: () => undefined,
    });
    expect(calls).to.deep.equal([
      { address: A(1), constructorArguments: [A(9), A(8), 1], contract: undefined },
      {
        address: A(2),
        constructorArguments: [A(3), "0x"],
        contract: "contracts/evolution/CommonsPolicyProxy.sol:CommonsPolicyProxy",
      },
      { address: A(4), constructorArguments: [A(1), A(5), A(9), "86400"], contract: undefined },
    ]);
    expect(result).to.deep.equal({ AgentRegistry: "verified", CommonsPolicy: "verified", Treasury: "verified" });
  });

  it("reports a failure per contract, goes on with the others, and counts 'already verified' as verified", async () => {
    const lines: string[] = [];
    const result = await verifyDeployment(record(), {
      apiKey: "KEY",
      verify: async ({ address }) => {
        if (address === A(1))
          throw new Error("The block explorer's API responded that the contract X at Y is already verified.\nmore");
        if (address === A(2)) throw new Error("Bytecode does not match\nsecond line");
      },
      log: (l) => lines.push(l),
    });
    expect(result).to.deep.equal({
      AgentRegistry: "already verified",
      CommonsPolicy: { error: "Bytecode does not match" },
      Treasury: "verified",
    });
    expect(lines).to.include(`verify: CommonsPolicy ${A(2)} FAILED: Bytecode does not match`);
    expect(lines.at(-1)).to.equal(
      "verify: 1 of 3 contracts not verified (the deployment stands; run the deploy again to retry)",
    );
  });

  it("a contract recorded without constructor arguments is a failure, not a silent skip", async () => {
    const r = record();
    delete r.contracts.Treasury!.constructorArgs;
    const result = await verifyDeployment(r, { apiKey: "KEY", verify: async () => undefined, log: () => undefined });
    expect(result?.Treasury).to.deep.equal({ error: "no constructor arguments recorded" });
  });

  it("recognises hardhat-verify's and Etherscan's 'already verified' answers only", () => {
    expect(isAlreadyVerified(new Error("Contract source code already verified"))).to.equal(true);
    expect(isAlreadyVerified(new Error("The contract 0x1 has already been verified"))).to.equal(true);
    expect(isAlreadyVerified(new Error("Fail - Unable to verify"))).to.equal(false);
  });
});

describe("Deployment record from Ignition's journal (deploy/ignition.ts)", () => {
  const deployments: IgnitionDeployment[] = [
    { contractName: "AgentRegistry", address: A(1), txHash: "0xaa", constructorArgs: [A(9), A(8), 86_400] },
    {
      contractName: "EarningsDistributor",
      address: A(6),
      txHash: "0xbb",
      constructorArgs: [A(1), A(5), A(9), A(7), A(3), 300n, 2_592_000, 1_000, 86_400],
    },
    { contractName: "CommonsPolicyProxy", address: A(2), txHash: "0xcc", constructorArgs: [A(3), "0x1234"] },
  ];
  const receipts: Record<string, { blockNumber: number; gasUsed: bigint }> = {
    "0xaa": { blockNumber: 10, gasUsed: 7_000_000n },
    "0xbb": { blockNumber: 12, gasUsed: 4_000_000n },
    "0xcc": { blockNumber: 11, gasUsed: 190_000n },
  };
  const receipt = async (h: string) => receipts[h]!;

  it("gives each contract its transaction, block, gas and constructor arguments; created ones their creator's", async () => {
    const out = await contractRecords(
      { AgentRegistry: A(1), AgentGoals: A(0x11), EarningsDistributor: A(6), Treasury: A(4), CommonsPolicy: A(2) },
      deployments,
      receipt,
    );
    expect(out.AgentRegistry).to.deep.equal({
      address: A(1),
      contractName: "AgentRegistry",
      transaction: "0xaa",
      block: 10,
      gasUsed: 7_000_000,
      constructorArgs: [A(9), A(8), 86_400],
    });
    expect(out.AgentGoals).to.deep.equal({
      address: A(0x11),
      contractName: "AgentGoals",
      transaction: "0xaa",
      block: 10,
      createdBy: "AgentRegistry",
      constructorArgs: [A(1)],
    });
    // new Treasury(registry, router, admin, limitPeriod), from EarningsDistributor's arguments 0, 1, 2 and 8.
    expect(out.Treasury?.constructorArgs).to.deep.equal([A(1), A(5), A(9), 86_400]);
    expect(out.EarningsDistributor?.constructorArgs?.[5]).to.equal("300");
    expect(out.CommonsPolicy?.contractName).to.equal("CommonsPolicyProxy");
  });

  it("refuses a contract it cannot account for, so the record is never silently incomplete", async () => {
    let error: Error | undefined;
    try {
      await contractRecords({ Stranger: A(0x99) }, deployments, receipt);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.equal(
      `Stranger at ${A(0x99)}: not deployed by Ignition and not created by a known constructor`,
    );
  });
});
