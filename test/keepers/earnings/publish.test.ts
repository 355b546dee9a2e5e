import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import type { Address } from "viem";
import { contentAddress, loadTreeFile, publishTree, treeJson } from "../../../keepers/earnings/publish";
import { EarningsTree } from "../../../keepers/earnings/tree";
import { makeTempDir } from "../../helpers/tmp";

const ETH = "0x0000000000000000000000000000000000000000" as Address;
const tree = EarningsTree.build(
  Array.from({ length: 50 }, (_, i) => ({ agentId: BigInt(i), token: ETH, amount: BigInt(1_000 + i) })),
);

/** A stand-in for kubo's /api/v0/add: records the request, answers with `cid` (or an HTTP error). */
async function fakeIpfs(answer: { status: number; cid?: string }) {
  const seen: { url?: string; body?: string } = {};
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.url = req.url;
    seen.body = Buffer.concat(chunks).toString();
    res.statusCode = answer.status;
    res.end(answer.cid ? `${JSON.stringify({ Name: "tree.json", Hash: answer.cid, Size: "10" })}\n` : "boom");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("earnings tree publication", () => {
  it("writes the tree to a file named by its CIDv1, the same bytes every time", async () => {
    const dir = makeTempDir("covenant-trees-");
    const a = await publishTree(tree, dir);
    const b = await publishTree(EarningsTree.build([...tree.leaves].reverse()), dir);
    expect(a.cid).to.match(/^bafkrei|^bafybei/);
    expect(b).to.deep.equal(a);
    expect(a.uri).to.equal(`ipfs://${a.cid}`);
    expect(a.file).to.equal(`${dir}/${a.cid}.json`);
    expect(readFileSync(a.file)).to.deep.equal(treeJson(tree));
    expect(await contentAddress(readFileSync(a.file))).to.equal(a.cid);
    expect((await loadTreeFile(a.file, tree.root)).root).to.equal(tree.root);
  });

  it("refuses a tree file whose content is not its name", async () => {
    const dir = makeTempDir("covenant-trees-");
    const { cid } = await publishTree(tree, dir);
    const other = EarningsTree.build([{ agentId: 1n, token: ETH, amount: 1n }]);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${dir}/${cid}.json`, treeJson(other));
    let error: Error | undefined;
    await loadTreeFile(`${dir}/${cid}.json`).catch((e: Error) => {
      error = e;
    });
    expect(error?.message).to.match(/is not the content its name says/);
  });

  it("pins on the IPFS HTTP API when one is configured, posting the node's CID", async () => {
    const ipfs = await fakeIpfs({ status: 200, cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi" });
    try {
      const published = await publishTree(tree, makeTempDir("covenant-trees-"), { ipfsApiUrl: ipfs.url });
      expect(published.pinned).to.equal(true);
      expect(published.uri).to.equal("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
      expect(ipfs.seen.url).to.match(/^\/api\/v0\/add\?cid-version=1&raw-leaves=true&chunker=size-1048576&pin=true$/);
      expect(ipfs.seen.body).to.contain(treeJson(tree).toString());
    } finally {
      await ipfs.close();
    }
  });

  it("fails, retryably, when the IPFS node refuses: nothing is posted unpinned", async () => {
    const ipfs = await fakeIpfs({ status: 500 });
    try {
      let error: (Error & { retryable?: boolean; code?: string }) | undefined;
      await publishTree(tree, makeTempDir("covenant-trees-"), { ipfsApiUrl: ipfs.url }).catch((e) => {
        error = e;
      });
      expect(error?.code).to.equal("PIN_REFUSED");
      expect(error?.retryable).to.equal(true);
    } finally {
      await ipfs.close();
    }
  });
});

describe("earnings tree files the keeper wrote", () => {
  it("load without rehashing once their content address matches, giving the same proofs", async () => {
    const dir = makeTempDir("covenant-trees-");
    const { file } = await publishTree(tree, dir);
    const own = await loadTreeFile(file, tree.root, { own: true });
    expect(own.root).to.equal(tree.root);
    for (let i = 0; i < tree.length; i += 7) expect(own.proofAt(i)).to.deep.equal(tree.proofAt(i));
    expect(own.leafOf(3n)).to.deep.equal(tree.leafOf(3n));
  });
});
