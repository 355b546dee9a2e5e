import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { encryptKeystoreJson, Wallet } from "ethers";
import { z } from "zod";
import { keeperConfigSchema, loadConfig } from "../../../keepers/shared/config";
import { ConfigError } from "../../../keepers/shared/errors";
import { createLogger } from "../../../keepers/shared/logger";
import { loadSigner } from "../../../keepers/shared/signer";
import { DEV_KEYS } from "../../helpers/testContract";
import { makeTempDir } from "../../helpers/tmp";
import { captureLogs } from "./fixtures/captureLogs";

const BASE = { RPC_URLS: "http://127.0.0.1:8545", CHAIN_ID: "31337" };
const schema = keeperConfigSchema({ keeper: "earnings", defaultHttpPort: 9470 });

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("keepers/shared config: loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig(schema, BASE);
    expect(c.RPC_URLS).to.deep.equal(["http://127.0.0.1:8545"]);
    expect(c.CHAIN_ID).to.equal(31337);
    expect(c.DATABASE_URL).to.equal(undefined);
    expect(c.DATA_DIR).to.equal("./.data/earnings");
    expect(c.LOG_LEVEL).to.equal("info");
    expect(c.HTTP_HOST).to.equal("127.0.0.1");
    expect(c.HTTP_PORT).to.equal(9470);
    expect(c.CONFIRMATIONS).to.equal(3);
    expect(c.REORG_DEPTH).to.equal(64);
    expect(c.LOG_CHUNK_BLOCKS).to.equal(2000);
    expect(c.POLL_INTERVAL_MS).to.equal(12000);
    expect(c.RPC_TIMEOUT_MS).to.equal(10000);
    expect(c.KEEPER_PRIVATE_KEY).to.equal(undefined);
  });

  it("parses every variable", () => {
    const c = loadConfig(schema, {
      RPC_URLS: " https://a.example/v2/k , http://b.example:8545 ",
      CHAIN_ID: "11155111",
      DATABASE_URL: "postgres://u:p@db:5432/covenant",
      DATA_DIR: "/var/lib/keeper",
      LOG_LEVEL: "debug",
      HTTP_HOST: "0.0.0.0",
      HTTP_PORT: "0",
      CONFIRMATIONS: "finalized",
      LOG_CHUNK_BLOCKS: "500",
      POLL_INTERVAL_MS: "2000",
      KEEPER_PRIVATE_KEY: DEV_KEYS[0],
    });
    expect(c.RPC_URLS).to.deep.equal(["https://a.example/v2/k", "http://b.example:8545"]);
    expect(c.CHAIN_ID).to.equal(11155111);
    expect(c.DATABASE_URL).to.equal("postgres://u:p@db:5432/covenant");
    expect(c.DATA_DIR).to.equal("/var/lib/keeper");
    expect(c.LOG_LEVEL).to.equal("debug");
    expect(c.HTTP_HOST).to.equal("0.0.0.0");
    expect(c.HTTP_PORT).to.equal(0);
    expect(c.CONFIRMATIONS).to.equal("finalized");
    expect(c.LOG_CHUNK_BLOCKS).to.equal(500);
    expect(c.POLL_INTERVAL_MS).to.equal(2000);
    expect(c.KEEPER_PRIVATE_KEY?.reveal()).to.equal(DEV_KEYS[0]);
  });

  it("names each bad variable and why, sorted, in one error", () => {
    const e = configError(() =>
      loadConfig(schema, {
        RPC_URLS: "http://ok.example,ftp://nope.example",
        CHAIN_ID: "main",
        HTTP_PORT: "70000",
        LOG_LEVEL: "loud",
        CONFIRMATIONS: "-1",
        DATABASE_URL: "mysql://x",
      }),
    );
    expect(e.issues).to.deep.equal([
      { variable: "CHAIN_ID", message: "expected an integer from 1 to 4294967295" },
      { variable: "CONFIRMATIONS", message: 'expected an integer from 0 to 10000, or "finalized"' },
      { variable: "DATABASE_URL", message: "expected a postgres:// or postgresql:// URL" },
      { variable: "HTTP_PORT", message: "expected an integer from 0 to 65535" },
      { variable: "LOG_LEVEL", message: "expected one of fatal, error, warn, info, debug, trace, silent" },
      { variable: "RPC_URLS", message: "expected comma-separated http(s) URLs (entry 2 is not one)" },
    ]);
    expect(e.message).to.include("RPC_URLS: expected comma-separated http(s) URLs");
  });

  it("reports missing required variables, treating empty values as unset", () => {
    const e = configError(() => loadConfig(schema, { RPC_URLS: "", CHAIN_ID: "  " }));
    expect(e.issues).to.deep.equal([
      { variable: "CHAIN_ID", message: "required" },
      { variable: "RPC_URLS", message: "required" },
    ]);
  });

  it("never echoes a value: URLs with keys and private keys stay out of the message", () => {
    const e = configError(() =>
      loadConfig(schema, {
        RPC_URLS: "wss://eth.example/v2/SECRETKEY",
        CHAIN_ID: "1",
        KEEPER_PRIVATE_KEY: "0xdeadbeefSECRET",
        DATABASE_URL: "mysql://user:PASSWORD@h/db",
      }),
    );
    expect(e.message).to.not.match(/SECRET|PASSWORD|deadbeef/);
    expect(e.issues.map((i) => i.variable)).to.deep.equal(["DATABASE_URL", "KEEPER_PRIVATE_KEY", "RPC_URLS"]);
  });

  it("checks the signer variables together", () => {
    const required = keeperConfigSchema({ keeper: "k", signer: "required" });
    expect(configError(() => loadConfig(required, BASE)).issues).to.deep.equal([
      { variable: "KEEPER_PRIVATE_KEY", message: "required (or KEEPER_KEYSTORE_PATH with KEEPER_KEYSTORE_PASSWORD)" },
    ]);
    expect(
      configError(() =>
        loadConfig(required, { ...BASE, KEEPER_PRIVATE_KEY: DEV_KEYS[0], KEEPER_KEYSTORE_PATH: "/k.json" }),
      ).issues,
    ).to.deep.equal([
      { variable: "KEEPER_KEYSTORE_PASSWORD", message: "required with KEEPER_KEYSTORE_PATH" },
      { variable: "KEEPER_PRIVATE_KEY", message: "set either KEEPER_PRIVATE_KEY or KEEPER_KEYSTORE_PATH, not both" },
    ]);
    // Signer issues are reported together with the others, not after they are fixed.
    expect(configError(() => loadConfig(required, { CHAIN_ID: "1" })).issues.map((i) => i.variable)).to.deep.equal([
      "KEEPER_PRIVATE_KEY",
      "RPC_URLS",
    ]);
    const none = keeperConfigSchema({ keeper: "k", signer: "none" });
    expect(configError(() => loadConfig(none, { ...BASE, KEEPER_PRIVATE_KEY: DEV_KEYS[0] })).issues).to.deep.equal([
      { variable: "KEEPER_PRIVATE_KEY", message: "this keeper signs nothing; unset it" },
    ]);
  });

  it("lets a keeper add its own variables", () => {
    const own = keeperConfigSchema({ keeper: "earnings" }, { EPOCH_SECONDS: z.coerce.number().int().positive() });
    expect(loadConfig(own, { ...BASE, EPOCH_SECONDS: "86400" }).EPOCH_SECONDS).to.equal(86400);
    expect(configError(() => loadConfig(own, BASE)).issues).to.deep.equal([
      { variable: "EPOCH_SECONDS", message: "required" },
    ]);
  });

  it("keeps secrets out of JSON and logs even when the whole config is logged", () => {
    const c = loadConfig(schema, {
      ...BASE,
      RPC_URLS: "https://eth.example/v2/APIKEY123",
      DATABASE_URL: "postgres://keeper:DBPASS@db/covenant",
      KEEPER_PRIVATE_KEY: DEV_KEYS[1],
    });
    expect(JSON.stringify(c)).to.not.include(DEV_KEYS[1].slice(2));
    const logs = captureLogs();
    createLogger("earnings", "info", logs.stream).info({ config: c }, "config loaded");
    const line = logs.text();
    expect(line).to.not.include(DEV_KEYS[1].slice(2));
    expect(line).to.not.include("APIKEY123");
    expect(line).to.not.include("DBPASS");
    const parsed = logs.lines()[0] as { config: Record<string, unknown> };
    expect(parsed.config.KEEPER_PRIVATE_KEY).to.equal("[redacted]");
    expect(parsed.config.RPC_URLS).to.deep.equal(["https://eth.example/[redacted]"]);
    expect(parsed.config.DATABASE_URL).to.equal("postgres://keeper:[redacted]@db/covenant");
  });
});

describe("keepers/shared signer: loadSigner", () => {
  const wallet = new Wallet(DEV_KEYS[2]);

  async function writeKeystore(password: string): Promise<string> {
    // Cheap scrypt parameters keep the test fast; real keystores use N = 2^17.
    const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, {
      scrypt: { N: 1 << 10, r: 8, p: 1 },
    });
    const path = join(makeTempDir(), "keeper.json");
    writeFileSync(path, json);
    return path;
  }

  it("uses KEEPER_PRIVATE_KEY", async () => {
    const c = loadConfig(schema, { ...BASE, KEEPER_PRIVATE_KEY: DEV_KEYS[2] });
    expect((await loadSigner(c))?.address).to.equal(wallet.address);
  });

  it("decrypts an encrypted JSON keystore", async () => {
    const path = await writeKeystore("correct horse");
    const c = loadConfig(schema, { ...BASE, KEEPER_KEYSTORE_PATH: path, KEEPER_KEYSTORE_PASSWORD: "correct horse" });
    expect((await loadSigner(c))?.address).to.equal(wallet.address);
  });

  it("fails with a ConfigError naming the variable for a wrong password or a missing file", async () => {
    const path = await writeKeystore("correct horse");
    const wrong = loadConfig(schema, { ...BASE, KEEPER_KEYSTORE_PATH: path, KEEPER_KEYSTORE_PASSWORD: "hunter2-typo" });
    const e1 = (await loadSigner(wrong).catch((e: unknown) => e)) as ConfigError;
    expect(e1).to.be.instanceOf(ConfigError);
    expect(e1.issues[0]!.variable).to.equal("KEEPER_KEYSTORE_PASSWORD");
    expect(e1.message).to.not.include("hunter2");
    const missing = loadConfig(schema, {
      ...BASE,
      KEEPER_KEYSTORE_PATH: "/nonexistent/k.json",
      KEEPER_KEYSTORE_PASSWORD: "x",
    });
    const e2 = (await loadSigner(missing).catch((e: unknown) => e)) as ConfigError;
    expect(e2.issues).to.deep.equal([
      { variable: "KEEPER_KEYSTORE_PATH", message: "cannot read the keystore file (ENOENT)" },
    ]);
  });

  it("returns undefined when no signer is configured", async () => {
    expect(await loadSigner(loadConfig(schema, BASE))).to.equal(undefined);
  });
});
