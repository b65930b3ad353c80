// The admin's client certificate as a member would judge it, with certificates openssl makes here.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { adminCertificateProblems, certificateProblems } from "../../../config/adminCertificate";
import { clusterSpec } from "../fixtures";

describe("the admin's client certificate", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-admin-cert-"));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "ignore"] });
  // a new EC key and its request or self-signed certificate, as the sandbox makes them
  const newKey = (name: string, subject: string, ...out: string[]) =>
    openssl(
      ..."req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes".split(" "),
      "-subj",
      `/CN=${subject}`,
      "-keyout",
      file(`${name}.key`),
      ...out,
    );
  const signed = (name: string, cn: string, by: string) => {
    newKey(name, cn, "-out", file(`${name}.csr`));
    const ca = ["-CA", file(`${by}.crt`), "-CAkey", file(`${by}.key`), "-CAcreateserial"];
    openssl("x509", "-req", "-in", file(`${name}.csr`), ...ca, "-days", "2", "-out", file(`${name}.crt`));
  };
  const pem = (cert: string, key = cert) => ({
    cert: fs.readFileSync(file(`${cert}.crt`), "utf8"),
    key: fs.readFileSync(file(`${key}.key`), "utf8"),
    ca: fs.readFileSync(file("ca.crt"), "utf8"),
  });
  const KEY = "pg-replication:clusters[0].adminCertificate";

  before(() => {
    for (const name of ["ca", "other-ca"]) newKey(name, name, "-x509", "-days", "2", "-out", file(`${name}.crt`));
    signed("admin", "pgr_admin", "ca");
    signed("someone", "someone", "ca");
    signed("stranger", "pgr_admin", "other-ca");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the role's certificate from the cluster's CA with its own key", () => {
    assert.deepEqual(certificateProblems(KEY, pem("admin")), []);
  });

  it("refuses another name, another CA, another key and an expired one, each under its key", () => {
    assert.deepEqual(certificateProblems(KEY, pem("someone")), [
      `${KEY}.cert: its subject's CN is "someone", not pgr_admin: the members compare it with the role's name (clientcert=verify-full)`,
    ]);
    assert.deepEqual(certificateProblems(KEY, pem("stranger")), [
      `${KEY}.cert: is not signed by the cluster's CA (sslRootCert), which the members check it against`,
    ]);
    assert.deepEqual(certificateProblems(KEY, pem("admin", "someone")), [`${KEY}.key: is not the certificate's key`]);
    assert.match(certificateProblems(KEY, pem("admin"), new Date(Date.now() + 5 * 86_400_000)).join("\n"), /\.cert: expired on /);
    assert.deepEqual(certificateProblems(KEY, { ...pem("admin"), cert: "not a certificate" }), [`${KEY}.cert: is not a PEM certificate`]);
  });

  it("names a file it cannot read, the key as the deploy identity's", () => {
    const c = clusterSpec({ sslRootCert: file("ca.crt"), adminCertificate: { cert: file("admin.crt"), key: file("missing.key") } });
    assert.deepEqual(adminCertificateProblems(c, 0), [
      `${KEY}.key: cannot read ${file("missing.key")} (the deploy identity's file: it is never in the stack)`,
    ]);
    assert.deepEqual(adminCertificateProblems({ ...c, adminCertificate: { cert: file("admin.crt"), key: file("admin.key") } }, 0), []);
    assert.deepEqual(adminCertificateProblems(clusterSpec(), 0), []);
  });
});
