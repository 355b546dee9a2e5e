import { expect } from "chai";
import { pad, toFunctionSelector } from "viem";
import { sharedSchema } from "../../../keepers/shared/store";
import { useHardhatNode } from "../../helpers/hardhatNode";
import { compileEmitter, DEV_KEYS } from "../../helpers/testContract";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import { type ChainFixture, chainFixture, closeFixture, ping } from "./fixtures/chainSetup";
import { decide, PongKeeper } from "./fixtures/pongKeeper";

describe("keepers/shared: the example keeper of docs/keepers.md", function () {
  this.timeout(60_000);
  const node = useHardhatNode();
  let f: ChainFixture;
  before(async () => {
    f = await chainFixture(node());
  });
  after(async () => closeFixture(f));

  it("decide() maps pings to one keyed intent each", () => {
    const [intent] = decide([5n], f.emitter, f.abi);
    expect(intent).to.deep.equal({
      key: "pong:5",
      to: f.emitter,
      data: toFunctionSelector("pong(uint256)") + pad("0x05").slice(2),
    });
  });

  it("answers each ping exactly once, also after a restart", async () => {
    const start = (await f.client.getBlockNumber()) + 1n;
    for (const id of [1n, 2n, 3n]) await ping(f, id);
    const env = {
      RPC_URLS: node().url,
      CHAIN_ID: "31337",
      HTTP_PORT: "0",
      POLL_INTERVAL_MS: "50",
      CONFIRMATIONS: "0",
      LOG_LEVEL: "warn",
      KEEPER_PRIVATE_KEY: DEV_KEYS[3],
      EMITTER_ADDRESS: f.emitter,
      START_BLOCK: start.toString(),
      DATA_DIR: makeTempDir("covenant-pong-"),
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    };
    const pongs = async () =>
      (
        await f.client.getContractEvents({
          address: f.emitter,
          abi: compileEmitter().abi,
          eventName: "Pong",
          fromBlock: start,
        })
      )
        .map((l) => (l.args as { id: bigint }).id)
        .sort();
    const until = async (want: bigint[]) => {
      const deadline = Date.now() + 20_000;
      while (JSON.stringify((await pongs()).map(String)) !== JSON.stringify(want.map(String))) {
        if (Date.now() > deadline) throw new Error(`pongs ${await pongs()} != ${want}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // A keeper name of its own: on PostgreSQL, runs share the database (cursor, keys, nonces).
    const name = uniqueName("pong").toLowerCase();
    const first = new PongKeeper(compileEmitter().abi, env, name);
    await first.start();
    try {
      await until([1n, 2n, 3n]);
    } finally {
      expect(await first.stop()).to.equal(0);
    }
    await ping(f, 4n);
    const second = new PongKeeper(compileEmitter().abi, env, name);
    await second.start();
    try {
      await until([1n, 2n, 3n, 4n]);
      await new Promise((r) => setTimeout(r, 300)); // a few more ticks: nothing is sent twice
      expect(await pongs()).to.deep.equal([1n, 2n, 3n, 4n]);
    } finally {
      expect(await second.stop()).to.equal(0);
      if (process.env.DATABASE_URL) await f.store.query(`DROP SCHEMA IF EXISTS "${sharedSchema(name)}" CASCADE`);
    }
  });
});
