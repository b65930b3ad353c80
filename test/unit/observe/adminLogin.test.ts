// The plan-time login of the admin role, against a stand-in server with a certificate the system
// does not trust and whose name is not 127.0.0.1: what each sslmode lets the password reach.
import { strict as assert } from "node:assert";
import { Endpoint } from "../../../lib/endpoint";
import { checkLoginOverNetwork } from "../../../observe/adminLogin";
import { FakePostgres, startFakePostgres } from "../../support/fakePostgres";

describe("the plan-time admin login", () => {
  let server: FakePostgres;
  const login = (sslmode: string, sslrootcert?: string) => {
    server.passwords.length = 0;
    const at: Endpoint = { host: "127.0.0.1", port: server.port, database: "postgres", user: "pgr_admin", password: "admin-pw", sslmode };
    return checkLoginOverNetwork(sslrootcert ? { ...at, sslrootcert } : at);
  };
  before(async () => {
    server = await startFakePostgres("pg.example");
  });
  after(() => server.close());

  it("with verify-full, sends no password to a server whose certificate it cannot verify", async () => {
    assert.equal(await login("verify-full"), "unreachable");
    assert.deepEqual(server.passwords, []);
  });

  it("with verify-full and the server's CA, still sends none when the certificate names another host", async () => {
    assert.equal(await login("verify-full", server.caFile), "unreachable");
    assert.deepEqual(server.passwords, []);
  });

  it("with verify-ca, trusts the configured CA and not the system's, whatever name the certificate has", async () => {
    assert.equal(await login("verify-ca"), "unreachable");
    assert.deepEqual(server.passwords, []);
    assert.equal(await login("verify-ca", server.caFile), "refused");
    assert.deepEqual(server.passwords, ["admin-pw"]);
  });

  it("with require, encrypts but verifies nothing: the server gets the password", async () => {
    assert.equal(await login("require"), "refused");
    assert.deepEqual(server.passwords, ["admin-pw"]);
  });
});
