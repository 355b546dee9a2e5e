import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { encryptKeystoreJsonSync, JsonRpcProvider, Wallet } from "ethers";
import { address, agentId } from "../../cli/commands/agent";
import { type CliContext, CliError, loadWallet, uintArg } from "../../cli/context";
import { main } from "../../cli/index";
import { describeError } from "../../cli/signed";
import { AgentGoals__factory, AgentRegistry__factory, CouncilFlags__factory } from "../../typechain-types";
import { freePort } from "../helpers/hardhatNode";
import { makeTempDir } from "../helpers/tmp";

/*
 * The covenant CLI in-process: exit codes, argument validation, key loading and revert decoding. The commands against
 * a chain run as child processes in test/identity/liveNode.test.ts.
 */

/** Runs `fn` with stdout and stderr captured (commander and the CLI print there). */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const log = { log: console.log, error: console.error };
  let out = "";
  let err = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  console.log = (...args: unknown[]) => {
    out += `${args.join(" ")}\n`;
  };
  console.error = (...args: unknown[]) => {
    err += `${args.join(" ")}\n`;
  };
  try {
    return { result: await fn(), out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    console.log = log.log;
    console.error = log.error;
  }
}

/** Awaits `promise` and checks it fails with a CliError (exit code 2) whose message includes `message`. */
async function rejects(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, "expected a CliError").to.be.instanceOf(CliError);
  expect((error as CliError).message).to.include(message);
  expect((error as CliError).exitCode).to.equal(2);
}

const covenant = (...args: string[]) => captured(() => main(["node", "covenant", ...args]));

describe("covenant CLI (in-process)", () => {
  describe("exit codes", () => {
    it("0 for --help", async () => {
      const { result, out } = await covenant("--help");
      expect(result).to.equal(0);
      expect(out).to.include("Usage: covenant");
      expect(out).to.include("agent");
      expect(out).to.match(/relay \[options\] <file>/);
    });

    it("2 for an unknown command or option, with commander's message", async () => {
      const unknownCommand = await covenant("agnet", "show", "0");
      expect(unknownCommand.result).to.equal(2);
      expect(unknownCommand.err).to.include("unknown command 'agnet'");
      const unknownOption = await covenant("agent", "show", "0", "--bogus");
      expect(unknownOption.result).to.equal(2);
      expect(unknownOption.err).to.include("unknown option '--bogus'");
      const missingArgument = await covenant("agent", "offer-charter", "0");
      expect(missingArgument.result).to.equal(2);
      expect(missingArgument.err).to.include("missing required argument 'signer'");
    });

    it("2 for an unreachable RPC, naming it", async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const { result, err } = await covenant("--rpc", url, "agent", "show", "0");
      expect(result).to.equal(2);
      expect(err).to.include(`error: cannot reach the RPC at ${url}`);
    });
  });

  describe("argument validation", () => {
    it("integers: non-negative decimal only, CliError naming the argument (exit code 2)", () => {
      expect(uintArg("0", "goal id")).to.equal(0n);
      expect(uintArg("115792089237316195423570985008687907853269984665640564039457584007913129639935", "n")).to.equal(
        2n ** 256n - 1n,
      );
      for (const bad of ["", "-1", "1.5", "0x10", "1e3", "seven", "failed: 1"]) {
        expect(() => uintArg(bad, "goal id"), bad)
          .to.throw(CliError, `goal id must be a non-negative integer, got "${bad}"`)
          .with.property("exitCode", 2);
      }
      expect(agentId("12")).to.equal(12n);
      expect(() => agentId("twelve")).to.throw(CliError, 'agent id must be a non-negative integer, got "twelve"');
    });

    it("addresses are checksummed; anything else is refused by name", () => {
      expect(address("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65")).to.equal(
        "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
      );
      expect(() => address("0x1234", "signer")).to.throw(CliError, 'signer "0x1234" is not an address');
    });
  });

  describe("keys", () => {
    const ctx = {
      provider: new JsonRpcProvider("http://127.0.0.1:9", undefined, { staticNetwork: true }),
    } as unknown as CliContext;
    const key = Wallet.createRandom();

    afterEach(() => {
      delete process.env.COVENANT_TEST_KEY;
      delete process.env.COVENANT_KEYSTORE_PASSWORD;
    });

    it("from the named environment variable; missing or malformed: a CliError naming the variable", async () => {
      await rejects(
        loadWallet(ctx, "COVENANT_TEST_KEY"),
        "set COVENANT_TEST_KEY to a private key (0x-prefixed hex) or pass --keystore <file>",
      );
      process.env.COVENANT_TEST_KEY = "0xnot-a-key";
      await rejects(loadWallet(ctx, "COVENANT_TEST_KEY"), "COVENANT_TEST_KEY is not a valid private key");
      process.env.COVENANT_TEST_KEY = key.privateKey;
      expect((await loadWallet(ctx, "COVENANT_TEST_KEY")).address).to.equal(key.address);
    });

    it("from an encrypted keystore with COVENANT_KEYSTORE_PASSWORD; a wrong password is refused", async () => {
      const file = path.join(makeTempDir("covenant-keystore-"), "agent.json");
      // A light scrypt cost keeps the test fast; the format is the standard one.
      writeFileSync(
        file,
        encryptKeystoreJsonSync({ address: key.address, privateKey: key.privateKey }, "correct horse", {
          scrypt: { N: 1 << 10 },
        }),
      );
      await rejects(loadWallet(ctx, "UNUSED", file), "COVENANT_KEYSTORE_PASSWORD must be set to open the keystore");
      process.env.COVENANT_KEYSTORE_PASSWORD = "wrong";
      await rejects(
        loadWallet(ctx, "UNUSED", file),
        `cannot decrypt keystore ${file}: wrong password or not a keystore`,
      );
      process.env.COVENANT_KEYSTORE_PASSWORD = "correct horse";
      expect((await loadWallet(ctx, "UNUSED", file)).address).to.equal(key.address);
      await rejects(loadWallet(ctx, "UNUSED", `${file}.missing`), "cannot read keystore");
    });
  });

  describe("describeError", () => {
    const registry = AgentRegistry__factory.createInterface();
    const goals = AgentGoals__factory.createInterface();
    const flags = CouncilFlags__factory.createInterface();
    const who = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";

    it("names any of the suite's custom errors with its arguments, wherever the revert data sits", () => {
      const notSigner = registry.encodeErrorResult("AgentRegistryNotAgentSigner", [3, who]);
      expect(describeError({ data: notSigner })).to.equal(`AgentRegistryNotAgentSigner(3, ${who})`);
      expect(describeError({ error: { data: notSigner } })).to.equal(`AgentRegistryNotAgentSigner(3, ${who})`);
      expect(describeError({ info: { error: { data: notSigner } } })).to.equal(
        `AgentRegistryNotAgentSigner(3, ${who})`,
      );
      expect(describeError({ data: goals.encodeErrorResult("AgentGoalsUnknownGoal", [1, 9]) })).to.equal(
        "AgentGoalsUnknownGoal(1, 9)",
      );
      expect(describeError({ data: flags.encodeErrorResult("CouncilFlagsInvalidStatus", [4, 2]) })).to.equal(
        "CouncilFlagsInvalidStatus(4, 2)",
      );
    });

    it("falls back to the message for data it does not know", () => {
      expect(describeError(Object.assign(new Error("boom"), { data: "0xdeadbeef" }))).to.equal("boom");
      expect(describeError("plain")).to.equal("plain");
    });
  });
});
