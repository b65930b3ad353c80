import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Endpoint, clientConfig } from "../../../lib/endpoint";

const at = (sslmode: string, sslrootcert?: string): Endpoint => ({
  host: "10.77.0.11",
  port: 5432,
  database: "appdb",
  user: "app",
  password: "pw",
  sslmode,
  ...(sslrootcert ? { sslrootcert } : {}),
});

describe("clientConfig", () => {
  it("maps disable to no TLS, and require, prefer and allow to TLS that verifies nothing", () => {
    assert.equal(clientConfig(at("disable")).ssl, false);
    for (const mode of ["require", "prefer", "allow"]) assert.deepEqual(clientConfig(at(mode)).ssl, { rejectUnauthorized: false });
  });

  it("rejects an unverified server for verify-full, checking its name", () => {
    const ssl = clientConfig(at("verify-full")).ssl as Record<string, unknown>;
    assert.equal(ssl.rejectUnauthorized, true);
    assert.equal(ssl.checkServerIdentity, undefined, "node's own name check stays");
  });

  it("rejects an unverified server for verify-ca, without checking its name", () => {
    const ssl = clientConfig(at("verify-ca")).ssl as { rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
    assert.equal(ssl.rejectUnauthorized, true);
    assert.equal(ssl.checkServerIdentity(), undefined);
  });

  it("trusts the configured CA file instead of the system's", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-ca-"));
    const file = path.join(dir, "root.crt");
    fs.writeFileSync(file, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    try {
      for (const mode of ["verify-ca", "verify-full"])
        assert.match(String((clientConfig(at(mode, file)).ssl as { ca: string }).ca), /BEGIN CERTIFICATE/);
      assert.deepEqual(clientConfig(at("require", file)).ssl, { rejectUnauthorized: false }, "require verifies nothing, CA or not");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("presents the endpoint's client certificate and key when it names them, never without TLS", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-cert-"));
    const [cert, key] = [path.join(dir, "admin.crt"), path.join(dir, "admin.key")];
    fs.writeFileSync(cert, "CERT");
    fs.writeFileSync(key, "KEY");
    try {
      const tls = clientConfig({ ...at("verify-full", cert), sslcert: cert, sslkey: key }).ssl as { cert: string; key: string };
      assert.equal(tls.cert, "CERT");
      assert.equal(tls.key, "KEY");
      assert.equal(clientConfig({ ...at("disable"), sslcert: cert, sslkey: key }).ssl, false);
      assert.equal((clientConfig(at("require")).ssl as { cert?: string }).cert, undefined);
      // a machine without the files (a preview's runner): no certificate, and the server says why
      const missing = clientConfig({ ...at("require"), sslcert: path.join(dir, "none.crt"), sslkey: key }).ssl as { cert?: string };
      assert.equal(missing.cert, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the session and gives up connecting after 10 s", () => {
    const c = clientConfig(at("require"), "pg-replication status");
    assert.equal(c.application_name, "pg-replication status");
    assert.equal(c.connectionTimeoutMillis, 10_000);
    assert.deepEqual([c.host, c.port, c.database, c.user, c.password], ["10.77.0.11", 5432, "appdb", "app", "pw"]);
  });
});
