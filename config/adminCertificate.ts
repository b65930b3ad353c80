// The admin role's client certificate, checked where `pulumi up` runs before any host is touched:
// a member with clientcert=verify-full refuses a certificate whose CN is not the role's name, that
// the cluster's CA did not sign, that has expired, or whose key is another's.
import { X509Certificate, createPrivateKey } from "node:crypto";
import * as fs from "node:fs";
import { ADMIN_ROLE } from "../names";
import { ClusterSpec, NAMESPACE } from "./spec";

export interface CertificateFiles {
  cert: string;
  key: string;
  /** The cluster's CA (sslRootCert). */
  ca: string;
}

function parsed<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** What a member would refuse of these PEM texts, each under `key` (the cluster's adminCertificate). */
export function certificateProblems(key: string, pem: CertificateFiles, now = new Date()): string[] {
  const cert = parsed(() => new X509Certificate(pem.cert));
  const privateKey = parsed(() => createPrivateKey(pem.key));
  const ca = parsed(() => new X509Certificate(pem.ca));
  const problems: string[] = [];
  if (!cert) return [`${key}.cert: is not a PEM certificate`];
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
  if (cn !== ADMIN_ROLE)
    problems.push(
      `${key}.cert: its subject's CN is ${JSON.stringify(cn ?? "")}, not ${ADMIN_ROLE}: the members compare it with the role's name (clientcert=verify-full)`,
    );
  if (!ca || !cert.checkIssued(ca) || !cert.verify(ca.publicKey))
    problems.push(`${key}.cert: is not signed by the cluster's CA (sslRootCert), which the members check it against`);
  if (new Date(cert.validTo) < now) problems.push(`${key}.cert: expired on ${cert.validTo}`);
  if (!privateKey) problems.push(`${key}.key: is not a PEM private key`);
  else if (!cert.checkPrivateKey(privateKey)) problems.push(`${key}.key: is not the certificate's key`);
  return problems;
}

const read = (path: string) => parsed(() => fs.readFileSync(path, "utf8"));

/** The deploy identity's check of a cluster's adminCertificate: the files read, then certificateProblems. */
export function adminCertificateProblems(c: ClusterSpec, i: number): string[] {
  if (!c.adminCertificate) return [];
  const key = `${NAMESPACE}:clusters[${i}].adminCertificate`;
  const files = { cert: read(c.adminCertificate.cert), key: read(c.adminCertificate.key), ca: read(c.sslRootCert ?? "") };
  const unreadable = [
    ...(files.cert === undefined ? [`${key}.cert: cannot read ${c.adminCertificate.cert}`] : []),
    ...(files.key === undefined
      ? [`${key}.key: cannot read ${c.adminCertificate.key} (the deploy identity's file: it is never in the stack)`]
      : []),
    ...(files.ca === undefined ? [`${NAMESPACE}:clusters[${i}].sslRootCert: cannot read ${c.sslRootCert}`] : []),
  ];
  if (unreadable.length > 0) return unreadable;
  return certificateProblems(key, files as CertificateFiles);
}
