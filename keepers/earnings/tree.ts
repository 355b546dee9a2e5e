import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, keccak256 } from "viem";

/*
 * Earnings trees in OpenZeppelin's StandardMerkleTree format ("standard-v1", leaf encoding
 * [uint256 agentId, address token, uint256 amount], double-hashed leaves, sorted pairs, leaves sorted
 * by hash), built here because the library's general encoder takes over a minute for 100,000 leaves
 * on a small machine. `dump()` is byte-compatible with `StandardMerkleTree.dump()`, so anyone can
 * `StandardMerkleTree.load()` a published tree; the tests check the two agree.
 *
 * The whole tree is one Buffer of 32-byte nodes, in the library's array layout: the root at 0, the
 * children of i at 2i+1 and 2i+2, the n leaves at the end in hash order.
 */

export const LEAF_ENCODING = ["uint256", "address", "uint256"] as const;

export type EarningsLeaf = { agentId: bigint; token: Address; amount: bigint };

/** The JSON form of a tree, exactly as `StandardMerkleTree.dump()` writes it. */
export type StandardTreeDump = {
  format: "standard-v1";
  leafEncoding: string[];
  tree: Hex[];
  values: { value: [string, string, string]; treeIndex: number }[];
};

const UINT256_MAX = (1n << 256n) - 1n;

/** keccak256(keccak256(abi.encode(agentId, token, amount))), as EarningsDistributor.leafHash. */
export function leafHash(leaf: EarningsLeaf): Uint8Array {
  return hashEncoded(leaf.agentId, hexToBytes(getAddress(leaf.token)), leaf.amount);
}

/** The leaf hash with the token already as 20 bytes (checksumming an address costs a keccak). */
function hashEncoded(agentId: bigint, token: Uint8Array, amount: bigint): Uint8Array {
  if (agentId < 0n || agentId > UINT256_MAX) throw new RangeError(`agentId ${agentId} is not a uint256`);
  if (amount < 0n || amount > UINT256_MAX) throw new RangeError(`amount ${amount} is not a uint256`);
  const encoded = Buffer.alloc(96);
  encoded.write(agentId.toString(16).padStart(64, "0"), 0, "hex");
  encoded.set(token, 44);
  encoded.write(amount.toString(16).padStart(64, "0"), 64, "hex");
  return keccak256(keccak256(encoded, "bytes"), "bytes");
}

function hexOf(buf: Buffer, index: number): Hex {
  return `0x${buf.toString("hex", index * 32, index * 32 + 32)}`;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** An earnings tree: root, total, proofs and the published dump. */
export class EarningsTree {
  /** The leaves, sorted by agent id (the order of `dump().values`). */
  readonly leaves: readonly EarningsLeaf[];
  readonly root: Hex;
  readonly total: bigint;
  private readonly nodes: Buffer;
  private readonly nodeCount: number;
  /** Tree index of each leaf, in `leaves` order. */
  private readonly treeIndex: Int32Array;
  private readonly byAgent: Map<bigint, number>;

  private constructor(leaves: readonly EarningsLeaf[], nodes: Buffer, treeIndex: Int32Array) {
    this.leaves = leaves;
    this.nodes = nodes;
    this.nodeCount = nodes.length / 32;
    this.treeIndex = treeIndex;
    this.root = hexOf(nodes, 0);
    this.total = leaves.reduce((sum, l) => sum + l.amount, 0n);
    this.byAgent = new Map(leaves.map((l, i) => [l.agentId, i]));
  }

  /**
   * Builds the tree of one epoch and token. Leaves are put in agent-id order first, so the same
   * earnings always give the same dump, byte for byte; the root does not depend on the order at all.
   * An agent may appear once; amounts must be positive.
   */
  static build(input: readonly EarningsLeaf[]): EarningsTree {
    if (input.length === 0) throw new RangeError("an earnings tree needs at least one leaf");
    const token = getAddress(input[0]!.token);
    const lower = token.toLowerCase();
    const leaves = input
      .map((l) => {
        if (l.token.toLowerCase() !== lower) throw new RangeError("a tree holds one token");
        return { agentId: l.agentId, token, amount: l.amount };
      })
      .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
    for (let i = 0; i < leaves.length; i++) {
      const l = leaves[i]!;
      if (l.amount <= 0n) throw new RangeError(`agent ${l.agentId}: amount must be positive, got ${l.amount}`);
      if (i > 0 && leaves[i - 1]!.agentId === l.agentId) throw new RangeError(`agent ${l.agentId} appears twice`);
    }
    const n = leaves.length;
    const tokenBytes = hexToBytes(token);
    const hashes = leaves.map((l) => hashEncoded(l.agentId, tokenBytes, l.amount));
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareBytes(hashes[a]!, hashes[b]!));
    const count = 2 * n - 1;
    const nodes = Buffer.alloc(count * 32);
    const treeIndex = new Int32Array(n);
    for (let pos = 0; pos < n; pos++) {
      const idx = count - 1 - pos;
      nodes.set(hashes[order[pos]!]!, idx * 32);
      treeIndex[order[pos]!] = idx;
    }
    const pair = new Uint8Array(64);
    for (let i = count - 1 - n; i >= 0; i--) {
      const left = nodes.subarray((2 * i + 1) * 32, (2 * i + 2) * 32);
      const right = nodes.subarray((2 * i + 2) * 32, (2 * i + 3) * 32);
      const [a, b] = compareBytes(left, right) <= 0 ? [left, right] : [right, left];
      pair.set(a, 0);
      pair.set(b, 32);
      nodes.set(keccak256(pair, "bytes"), i * 32);
    }
    return new EarningsTree(leaves, nodes, treeIndex);
  }

  /**
   * Loads a dump (ours or the library's). By default every leaf and node is hashed again and checked against the root
   * it claims. `trusted` skips that (for a file this keeper wrote, whose content address was just checked): the nodes
   * are taken as they are, which for 100,000 leaves is a second instead of several.
   */
  static fromDump(dump: StandardTreeDump, options: { trusted?: boolean } = {}): EarningsTree {
    if (dump.format !== "standard-v1") throw new Error(`unknown tree format ${String(dump.format)}`);
    if (JSON.stringify(dump.leafEncoding) !== JSON.stringify(LEAF_ENCODING)) {
      throw new Error(`leaf encoding ${JSON.stringify(dump.leafEncoding)} is not ${JSON.stringify(LEAF_ENCODING)}`);
    }
    const leaves = dump.values.map(({ value }) => ({
      agentId: BigInt(value[0]),
      token: getAddress(value[1]),
      amount: BigInt(value[2]),
    }));
    if (options.trusted) {
      const nodes = Buffer.alloc(dump.tree.length * 32);
      dump.tree.forEach((hex, i) => {
        nodes.write(hex.slice(2), i * 32, "hex");
      });
      return new EarningsTree(leaves, nodes, Int32Array.from(dump.values.map((v) => v.treeIndex)));
    }
    const built = EarningsTree.build(leaves);
    if (built.root !== dump.tree[0]) {
      throw new Error(`the dump's root ${dump.tree[0]} is not the root of its values, ${built.root}`);
    }
    return built;
  }

  get length(): number {
    return this.leaves.length;
  }

  /** The token of every leaf. */
  get token(): Address {
    return this.leaves[0]!.token;
  }

  /** The leaf of `agentId`, if it has one. */
  leafOf(agentId: bigint): EarningsLeaf | undefined {
    const i = this.byAgent.get(agentId);
    return i === undefined ? undefined : this.leaves[i];
  }

  /** The proof of `agentId`'s leaf (siblings from the leaf up), or undefined when it has none. */
  proof(agentId: bigint): Hex[] | undefined {
    const i = this.byAgent.get(agentId);
    return i === undefined ? undefined : this.proofAt(i);
  }

  /** The proof of the i-th leaf in agent-id order. */
  proofAt(i: number): Hex[] {
    let index = this.treeIndex[i];
    if (index === undefined) throw new RangeError(`no leaf ${i}`);
    const proof: Hex[] = [];
    while (index > 0) {
      const sibling = index % 2 === 1 ? index + 1 : index - 1;
      proof.push(hexOf(this.nodes, sibling));
      index = Math.floor((index - 1) / 2);
    }
    return proof;
  }

  /** The JSON dump, identical to `StandardMerkleTree.of(values, LEAF_ENCODING).dump()`. */
  dump(): StandardTreeDump {
    const tree: Hex[] = new Array(this.nodeCount);
    for (let i = 0; i < this.nodeCount; i++) tree[i] = hexOf(this.nodes, i);
    const token = this.token;
    return {
      format: "standard-v1",
      leafEncoding: [...LEAF_ENCODING],
      tree,
      values: this.leaves.map((l, i) => ({
        value: [l.agentId.toString(), token, l.amount.toString()],
        treeIndex: this.treeIndex[i]!,
      })),
    };
  }
}

/** Recomputes a root from a leaf and its proof (what the contract does). */
export function processProof(leaf: EarningsLeaf, proof: readonly Hex[]): Hex {
  let node = leafHash(leaf);
  const pair = new Uint8Array(64);
  for (const p of proof) {
    const sibling = hexToBytes(p);
    const [a, b] = compareBytes(node, sibling) <= 0 ? [node, sibling] : [sibling, node];
    pair.set(a, 0);
    pair.set(b, 32);
    node = keccak256(pair, "bytes");
  }
  return bytesToHex(node);
}
