import { expect } from "chai";
import { drawRoles } from "../../scripts/simulate/agents";
import { Rng } from "../../scripts/simulate/rng";
import { recipientOf, spendNonce } from "../../scripts/simulate/spends";

/*
 * The simulation's schedule is a function of its seed: the same seed gives the same draws, roles, payees and nonces;
 * another seed gives others. (The run itself is checked by `npm run simulate:ci`.)
 */
describe("simulate: the seeded schedule", () => {
  it("gives the same sequence for the same seed and another for another seed", () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return [...Array(50).keys()].map(() => r.next());
    };
    expect(draw(7)).to.deep.equal(draw(7));
    expect(draw(7)).to.not.deep.equal(draw(8));
    expect(new Set(draw(7)).size).to.be.greaterThan(45);
  });

  it("keeps a fork's draws independent of draws made after it on the parent", () => {
    const a = new Rng(3);
    const fa = a.fork("payments");
    const b = new Rng(3);
    const fb = b.fork("payments");
    b.next();
    b.next();
    expect([fa.next(), fa.next()]).to.deep.equal([fb.next(), fb.next()]);
    expect(new Rng(3).fork("payments").next()).to.not.equal(new Rng(3).fork("spends").next());
  });

  it("draws integers and bigints inside their bounds", () => {
    const r = new Rng(11);
    for (let i = 0; i < 500; i++) {
      const n = r.int(-3, 4);
      expect(n).to.be.within(-3, 4);
      const b = r.bigint(10n, 20n);
      expect(b >= 10n && b <= 20n).to.equal(true);
    }
  });

  it("draws 30% bankrupt, 10% byzantine and one clone, the same for the same seed", () => {
    const roles = drawRoles(100, new Rng(1).fork("roles"));
    const count = (role: string) => roles.filter((x) => x === role).length;
    expect([count("bankrupt"), count("byzantine"), count("clone"), count("honest")]).to.deep.equal([30, 10, 1, 59]);
    expect(drawRoles(100, new Rng(1).fork("roles"))).to.deep.equal(roles);
    expect(drawRoles(100, new Rng(2).fork("roles"))).to.not.deep.equal(roles);
    const small = drawRoles(20, new Rng(1).fork("roles"));
    expect(small.filter((x) => x === "byzantine")).to.have.length(2);
  });

  it("gives each agent its own payee and each (round, host, sequence) its own Spend nonce", () => {
    expect(recipientOf(1, 0)).to.equal(recipientOf(1, 0));
    expect(recipientOf(1, 0)).to.not.equal(recipientOf(1, 1));
    expect(recipientOf(1, 0)).to.not.equal(recipientOf(2, 0));
    const nonces = new Set<bigint>();
    for (let round = 0; round < 5; round++)
      for (let host = 0; host < 3; host++) for (let seq = 0; seq < 300; seq++) nonces.add(spendNonce(round, host, seq));
    expect(nonces.size).to.equal(5 * 3 * 300);
  });
});
