// A stand-in PostgreSQL server for the TLS tests: it answers an SSLRequest with TLS under a
// certificate made for the test (openssl), asks for the password in clear text, records it, and
// refuses it (28P01). What a client sends before it trusts the server is what the tests read.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";

export interface FakePostgres {
  port: number;
  /** The CA file a client would need: the server's self-signed certificate. */
  caFile: string;
  /** The passwords clients sent. */
  passwords: string[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

/** A certificate for DNS name `name` only (so 127.0.0.1 does not match it). */
function makeCertificate(dir: string, name: string): { key: string; cert: string } {
  const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`],
    ],
    { stdio: "ignore" },
  );
  return { key, cert };
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "ascii");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export async function startFakePostgres(serverName = "pg.example"): Promise<FakePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-fake-pg-"));
  const files = makeCertificate(dir, serverName);
  const context = { key: fs.readFileSync(files.key), cert: fs.readFileSync(files.cert) };
  const passwords: string[] = [];

  const talk = (socket: tls.TLSSocket) => {
    let buffered = Buffer.alloc(0);
    let started = false;
    socket.on("error", () => undefined);
    socket.on("data", (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      if (!started && buffered.length >= 4 && buffered.length >= buffered.readInt32BE(0)) {
        buffered = buffered.subarray(buffered.readInt32BE(0));
        started = true;
        socket.write(message("R", int32(3))); // AuthenticationCleartextPassword
      }
      if (started && buffered.length >= 5 && buffered[0] === "p".charCodeAt(0) && buffered.length >= 1 + buffered.readInt32BE(1)) {
        const end = 1 + buffered.readInt32BE(1);
        passwords.push(buffered.subarray(5, end - 1).toString("utf8"));
        buffered = buffered.subarray(end);
        const fields = Buffer.from("SFATAL\0C28P01\0Mpassword authentication failed\0\0", "utf8");
        socket.end(message("E", fields));
      }
    });
  };

  const server = net.createServer((raw) => {
    raw.on("error", () => undefined);
    raw.once("data", (d: Buffer) => {
      if (d.length < 8 || d.readInt32BE(4) !== SSL_REQUEST) {
        raw.destroy();
        return;
      }
      raw.write("S");
      const secure = new tls.TLSSocket(raw, { isServer: true, ...context });
      talk(secure);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    caFile: files.cert,
    passwords,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(dir, { recursive: true, force: true });
      }),
  };
}
