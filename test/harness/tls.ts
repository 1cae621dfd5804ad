// Throw-away TLS material for one test file, made with the openssl CLI in a temp dir:
//
//   const pki = await makeTestPki();   // ca.pem, server.pem/key (SAN IP:127.0.0.1, DNS:localhost),
//                                      // client.pem/key (clientAuth), and other-ca.pem: a CA that
//                                      // signed nothing here, for "wrong CA" tests
// Keys are P-256, valid for one day; the temp dir is removed by cleanupAll (or at process exit).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./bin.ts";
import { registerCleanup } from "./cleanup.ts";
import { run } from "./exec.ts";

export type TestPki = {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** A second CA: certificates of this PKI do not verify against it. */
  otherCaFile: string;
};

export function opensslBinary(): string | undefined {
  return findBinary("openssl");
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export async function makeTestPki(): Promise<TestPki> {
  const openssl = opensslBinary();
  if (openssl === undefined) throw new Error("openssl binary not found");
  const dir = mkdtempSync("/tmp/berth-pki-");
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const unregister = registerCleanup(
    `test PKI (${dir})`,
    () => {
      remove();
      return Promise.resolve();
    },
    remove,
  );
  const at = (name: string) => join(dir, name);
  const ca = async (name: string, cn: string) =>
    run(openssl, [
      "req",
      "-x509",
      ...KEY,
      "-keyout",
      at(`${name}.key`),
      "-out",
      at(`${name}.pem`),
      "-days",
      "1",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  const leaf = async (name: string, cn: string, extensions: string) => {
    writeFileSync(at(`${name}.ext`), extensions);
    await run(openssl, ["req", ...KEY, "-keyout", at(`${name}.key`), "-out", at(`${name}.csr`), "-subj", `/CN=${cn}`]);
    await run(openssl, [
      "x509",
      "-req",
      "-in",
      at(`${name}.csr`),
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca.key"),
      "-CAcreateserial",
      "-out",
      at(`${name}.pem`),
      "-days",
      "1",
      "-extfile",
      at(`${name}.ext`),
    ]);
  };
  try {
    await ca("ca", "berth test CA");
    await ca("other-ca", "berth test other CA");
    await leaf("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    await leaf("client", "berth-test-client", "extendedKeyUsage=clientAuth\n");
  } catch (error) {
    remove();
    unregister();
    throw error;
  }
  return {
    dir,
    caFile: at("ca.pem"),
    serverCertFile: at("server.pem"),
    serverKeyFile: at("server.key"),
    clientCertFile: at("client.pem"),
    clientKeyFile: at("client.key"),
    otherCaFile: at("other-ca.pem"),
  };
}
