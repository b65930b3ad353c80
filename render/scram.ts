import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import saslprep from "@mongodb-js/saslprep";

const ITERATIONS = 4096;

/**
 * A PostgreSQL SCRAM-SHA-256 verifier for `password`, so that no SQL statement a host runs or
 * logs ever carries the password itself. The salt is derived from the role and the password:
 * the same inputs give the same verifier, and a rerun shows no diff.
 */
export function scramVerifier(role: string, password: string): string {
  const salt = createHmac("sha256", password).update(`pg-replication salt for ${role}`).digest().subarray(0, 16);
  const salted = pbkdf2Sync(prepared(password), salt, ITERATIONS, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * The password as the server hashes it: ASCII as it is, anything else through SASLprep (RFC 4013),
 * and, as PostgreSQL does, the raw password when SASLprep prohibits it.
 */
function prepared(password: string): string {
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  try {
    return saslprep(password);
  } catch {
    return password;
  }
}
