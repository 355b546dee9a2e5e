import { Writable } from "node:stream";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { governanceConfigSchema } from "../../../keepers/governance/config";
import { invariants, registerInvariant } from "../../../keepers/governance/invariants";
import { canonicalJson, contentAddress, ReportStore } from "../../../keepers/governance/reports";
import { GovernanceKeeper } from "../../../keepers/governance/service";
import { ConfigError, loadConfig } from "../../../keepers/shared";
import { deployWithAgents } from "../../fixtures/governance";
import { makeTempDir } from "../../helpers/tmp";
import { devKey, serveHardhat } from "./harness";

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe("governance keeper: configuration, reports, invariants, service", function () {
  this.timeout(120_000);

  describe("configuration", () => {
    it("fails fast naming every bad variable", () => {
      try {
        loadConfig(governanceConfigSchema, {
          RPC_URLS: "http://127.0.0.1:1",
          CHAIN_ID: "31337",
          KEEPER_PRIVATE_KEY: devKey(15),
          EXECUTE: "maybe",
          RESIMULATE_DISTANCE: "0",
        });
        expect.fail("loadConfig accepted a bad configuration");
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        const issues = (err as ConfigError).issues.map((i) => i.variable);
        expect(issues).to.deep.equal(["EXECUTE", "GOVERNOR_ADDRESS", "RESIMULATE_DISTANCE"]);
        expect((err as ConfigError).message).to.not.include(devKey(15).slice(2));
      }
    });

    it("requires a signing key", () => {
      expect(() =>
        loadConfig(governanceConfigSchema, {
          RPC_URLS: "http://127.0.0.1:1",
          CHAIN_ID: "31337",
          GOVERNOR_ADDRESS: "0x0000000000000000000000000000000000000001",
        }),
      )
        .to.throw(ConfigError)
        .with.property("issues")
        .that.deep.includes({
          variable: "KEEPER_PRIVATE_KEY",
          message: "required (or KEEPER_KEYSTORE_PATH with KEEPER_KEYSTORE_PASSWORD)",
        });
    });
  });

  describe("reports by content address", () => {
    it("gives the same report the same CIDv1 and refuses a tampered file", async () => {
      const dir = makeTempDir("covenant-reports-");
      const reports = new ReportStore(dir);
      const a = await reports.put({ b: 2n, a: [1, { z: true, y: "x" }] });
      const b = await reports.put({ a: [1, { y: "x", z: true }], b: 2n });
      expect(a.cid).to.equal(b.cid);
      expect(a.cid.startsWith("bafkrei")).to.equal(true);
      expect(a.sha256).to.equal(
        contentAddress(Buffer.from(canonicalJson({ a: [1, { y: "x", z: true }], b: "2" }))).sha256,
      );
      expect(await reports.get(a.cid)).to.deep.equal({ a: [1, { y: "x", z: true }], b: "2" });
      const { writeFileSync } = await import("node:fs");
      writeFileSync(a.path, '{"a":"changed"}');
      let refused = false;
      await reports.get(a.cid).catch(() => {
        refused = true;
      });
      expect(refused).to.equal(true);
    });
  });

  describe("the invariant registry", () => {
    it("holds one check per contract of this part and takes more by name, once", () => {
      const names = invariants().map((i) => i.contract);
      expect(names).to.include.members([
        "CommonsPolicy",
        "CovenantVotes",
        "CovenantGovernor",
        "AgentRegistry",
        "EvolutionRegistry",
      ]);
      const extra = {
        name: "Test: always holds",
        contract: "Nothing",
        check: async () => ({ ok: true as const, detail: "" }),
      };
      const remove = registerInvariant(extra);
      try {
        expect(invariants()).to.include(extra);
        expect(() => registerInvariant(extra)).to.throw('invariant "Test: always holds" already registered');
      } finally {
        remove();
      }
      expect(invariants()).to.not.include(extra);
    });
  });

  describe("the service", () => {
    let server: { url: string; close: () => Promise<void> };
    let dataDir: string;
    before(async () => {
      server = await serveHardhat();
      dataDir = makeTempDir("covenant-gov-service-");
    });
    after(async () => {
      await server?.close();
    });

    function env(
      f: Awaited<ReturnType<typeof deployWithAgents>>,
      governor: string,
      extra: Record<string, string> = {},
    ) {
      void f;
      return {
        RPC_URLS: server.url,
        CHAIN_ID: "31337",
        KEEPER_PRIVATE_KEY: devKey(15),
        GOVERNOR_ADDRESS: governor,
        DATA_DIR: dataDir,
        HTTP_PORT: "0",
        CONFIRMATIONS: "0",
        POLL_INTERVAL_MS: "200",
        LOG_LEVEL: "info",
        ...extra,
      };
    }

    it("starts, serves /healthz and /metrics, ticks and stops on request", async () => {
      const f = await loadFixture(deployWithAgents);
      const logs = captureLogs();
      const keeper = new GovernanceKeeper({ env: env(f, await f.governor.getAddress()), logDestination: logs.stream });
      await keeper.start();
      try {
        const started = logs.lines.find((l) => l.msg === "service started") as { url: string };
        for (let i = 0; i < 50 && keeper.health().ticks < 2; i++) await new Promise((r) => setTimeout(r, 100));
        expect(keeper.health().consecutiveFailures).to.equal(0);
        const health = await fetch(`${started.url}/healthz`);
        expect(health.status).to.equal(200);
        const metrics = await (await fetch(`${started.url}/metrics`)).text();
        expect(metrics).to.include("covenant_governance_ticks_total");
        expect(metrics).to.include("covenant_governance_scanner_blocks_total");
        const ready = logs.lines.find((l) => l.msg === "governance keeper ready") as {
          addresses: Record<string, string>;
        };
        expect(ready.addresses.EvolutionRegistry).to.equal(await f.evolution.getAddress());
      } finally {
        expect(await keeper.stop()).to.equal(0);
      }
    });

    it("refuses to start when attestations would expire before it renews them", async () => {
      const f = await loadFixture(deployWithAgents);
      const logs = captureLogs();
      const keeper = new GovernanceKeeper({
        env: env(f, await f.governor.getAddress(), { RESIMULATE_DISTANCE: "50" }),
        logDestination: logs.stream,
      });
      let error: unknown;
      await keeper.start().catch((err) => {
        error = err;
      });
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).issues[0]!.variable).to.equal("RESIMULATE_DISTANCE");
      expect(await keeper.done).to.equal(78);
    });
  });
});
