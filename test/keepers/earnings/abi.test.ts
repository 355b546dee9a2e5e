import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { type Abi, toEventSelector, toFunctionSelector } from "viem";
import { formatAbiItem } from "viem/utils";
import { distributorAbi, earningsErrorsAbi, routerAbi } from "../../../keepers/earnings/abi";

function compiled(file: string, name: string): Abi {
  const p = path.resolve(__dirname, "..", "..", "..", "artifacts", "contracts", file, `${name}.json`);
  return (JSON.parse(readFileSync(p, "utf8")) as { abi: Abi }).abi;
}

function signatures(abi: Abi): Set<string> {
  return new Set(
    abi
      .filter((x) => x.type === "function" || x.type === "event" || x.type === "error")
      .map((x) => formatAbiItem(x as never)),
  );
}

describe("earnings keeper ABIs", () => {
  const router = signatures(compiled("treasury/RevenueRouter.sol", "RevenueRouter"));
  const distributor = signatures(compiled("treasury/EarningsDistributor.sol", "EarningsDistributor"));

  it("match the compiled RevenueRouter and EarningsDistributor, fragment by fragment", () => {
    for (const item of routerAbi)
      expect(router.has(formatAbiItem(item as never)), formatAbiItem(item as never)).to.equal(true);
    for (const item of distributorAbi) {
      expect(distributor.has(formatAbiItem(item as never)), formatAbiItem(item as never)).to.equal(true);
    }
    for (const item of earningsErrorsAbi) {
      const sig = formatAbiItem(item as never);
      expect(router.has(sig) || distributor.has(sig), sig).to.equal(true);
    }
  });

  it("name the events and calls the keeper relies on", () => {
    expect(toEventSelector("Paid(uint256,address,uint256,uint256,uint256,bytes32)")).to.equal(
      toEventSelector(routerAbi.find((x) => x.type === "event" && x.name === "Paid")!),
    );
    expect(toFunctionSelector("claimMany(uint256,address,(uint256,uint256,bytes32[])[])")).to.equal(
      toFunctionSelector(distributorAbi.find((x) => x.type === "function" && x.name === "claimMany")!),
    );
  });
});
