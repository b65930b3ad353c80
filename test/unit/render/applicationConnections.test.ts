import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { WAY_BACK_ROLE } from "../../../names";
import {
  ApplicationTarget,
  applicationClients,
  renderApplicationConnections,
  renderConnectionStrings,
  uriHost,
} from "../../../render/applicationConnections";
import { clusterSpec } from "../fixtures";

// libpq's own parser (PQconninfoParse) through ctypes: what a libpq client reads in a string
const PARSE_WITH_LIBPQ = `
import ctypes, json, sys
lib = ctypes.CDLL("libpq.so.5")
class Option(ctypes.Structure):
    _fields_ = [("keyword", ctypes.c_char_p), ("envvar", ctypes.c_char_p), ("compiled", ctypes.c_char_p),
                ("val", ctypes.c_char_p), ("label", ctypes.c_char_p), ("dispchar", ctypes.c_char_p), ("dispsize", ctypes.c_int)]
lib.PQconninfoParse.restype = ctypes.POINTER(Option)
lib.PQconninfoParse.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
error = ctypes.c_char_p()
options = lib.PQconninfoParse(sys.argv[1].encode(), ctypes.byref(error))
if not options:
    print(json.dumps({"error": error.value.decode()}))
    sys.exit(0)
parsed, i = {}, 0
while options[i].keyword:
    if options[i].val is not None:
        parsed[options[i].keyword.decode()] = options[i].val.decode()
    i += 1
print(json.dumps(parsed))
`;

function parseWithLibpq(conninfo: string): Record<string, string> | undefined {
  const r = spawnSync("python3", ["-c", PARSE_WITH_LIBPQ, conninfo], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout) as Record<string, string>;
}

const target: ApplicationTarget = { addresses: ["10.77.0.11", "2001:db8::12", "db3.example.net"], port: 6432, sslmode: "verify-full" };

describe("application connections", () => {
  it("lists every member for the writer, read-write, with the cluster's sslmode and a connect timeout, and no password", () => {
    const s = renderConnectionStrings(target, "appdb", "app", "readWrite");
    assert.equal(
      s.conninfo,
      "host='10.77.0.11,2001:db8::12,db3.example.net' port='6432,6432,6432' dbname='appdb' user='app' sslmode='verify-full' connect_timeout='5' target_session_attrs='read-write'",
    );
    assert.equal(
      s.uri,
      "postgresql://app@10.77.0.11:6432,[2001:db8::12]:6432,db3.example.net:6432/appdb?sslmode=verify-full&connect_timeout=5&target_session_attrs=read-write",
    );
    assert.equal(
      s.jdbc,
      "jdbc:postgresql://10.77.0.11:6432,[2001:db8::12]:6432,db3.example.net:6432/appdb?user=app&sslmode=verify-full&connectTimeout=5&targetServerType=primary",
    );
    for (const form of Object.values(s)) assert.doesNotMatch(form, /password|sslrootcert/);
  });

  it("prefers a standby for the reader", () => {
    const s = renderConnectionStrings(target, "appdb", "app", "readOnly");
    assert.match(s.conninfo, /target_session_attrs='prefer-standby'/);
    assert.match(s.uri, /target_session_attrs=prefer-standby$/);
    assert.match(s.jdbc, /targetServerType=preferSecondary$/);
  });

  it("brackets IPv6 addresses in URIs only", () => {
    assert.equal(uriHost("2001:db8::1"), "[2001:db8::1]");
    assert.equal(uriHost("::ffff:10.0.0.1"), "[::ffff:10.0.0.1]");
    assert.equal(uriHost("10.0.0.1"), "10.0.0.1");
    assert.equal(uriHost("db.example.net"), "db.example.net");
  });

  it("quotes database and user names whatever they hold", () => {
    const s = renderConnectionStrings(target, "it's my db", "app@x/y?z", "readWrite");
    assert.match(s.conninfo, / dbname='it\\'s my db' user='app@x\/y\?z' /);
    assert.match(s.uri, /^postgresql:\/\/app%40x%2Fy%3Fz@10\.77\.0\.11:6432,/);
    assert.match(s.uri, /\/it's%20my%20db\?/);
    assert.match(s.jdbc, /\/it's%20my%20db\?user=app%40x%2Fy%3Fz&/);
    const plus = renderConnectionStrings(target, "a+b&c=d", "u", "readWrite");
    // a JDBC URL is decoded as a form: a bare + would read as a space
    assert.match(plus.jdbc, /\/a%2Bb%26c%3Dd\?/);
  });

  it("reads back, through libpq's own parser, as the members, database and user it was made of", function () {
    const names = { database: "it's \\ my db", user: "app@x,y" };
    for (const session of ["readWrite", "readOnly"] as const) {
      const s = renderConnectionStrings(target, names.database, names.user, session);
      for (const form of [s.conninfo, s.uri]) {
        const parsed = parseWithLibpq(form);
        if (!parsed) return this.skip(); // no python3 or no libpq here
        assert.deepEqual(
          parsed,
          {
            host: "10.77.0.11,2001:db8::12,db3.example.net",
            port: "6432,6432,6432",
            dbname: names.database,
            user: names.user,
            sslmode: "verify-full",
            connect_timeout: "5",
            target_session_attrs: session === "readWrite" ? "read-write" : "prefer-standby",
          },
          form,
        );
      }
    }
  });

  it("leaves out members marked down, keeps config order whoever leads, and refuses when none is left", () => {
    const spec = clusterSpec({ leader: "pg2" });
    spec.hosts[2].down = true;
    const c = renderApplicationConnections(spec).appdb.app;
    assert.match(c.readWrite.conninfo, /^host='10\.77\.0\.11,10\.77\.0\.12' port='5432,5432'/);
    assert.throws(() => renderConnectionStrings({ ...target, addresses: [] }, "d", "u", "readWrite"), /every host is down/);
  });

  it("gives one entry per database and user, by database then user, without the migration's way back", () => {
    const clients = [
      { database: "appdb", user: "app", address: "10.0.0.0/24" },
      { database: "appdb", user: "app", address: "10.1.0.0/24" },
      { database: "appdb", user: "reporting", address: "10.1.0.0/24" },
      { database: "audit", user: "app", address: "10.1.0.0/24" },
      { database: "appdb", user: WAY_BACK_ROLE, address: "192.0.2.1/32" },
    ];
    assert.deepEqual(applicationClients(clients), [
      { database: "appdb", user: "app" },
      { database: "appdb", user: "reporting" },
      { database: "audit", user: "app" },
    ]);
    const out = renderApplicationConnections(clusterSpec({ clients }));
    assert.deepEqual(Object.keys(out), ["appdb", "audit"]);
    assert.deepEqual(Object.keys(out.appdb), ["app", "reporting"]);
    assert.equal(out.audit.app.database, "audit");
    assert.match(out.appdb.reporting.readOnly.uri, /^postgresql:\/\/reporting@.*\/appdb\?sslmode=require&/);
  });
});
