import { createPrivateKey } from "node:crypto";
import { desc, inArray, isNull, sql } from "drizzle-orm";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTHeaderParameters,
} from "jose";
import { type Db, transaction } from "../../infra/db.js";
import { signingKeys } from "./identity.table.js";

const ALG = "EdDSA";
// Another replica may have made a key: an unknown kid triggers a reload (one at a time), and a
// kid still unknown after it is remembered as unknown for a while, so forged kids cost little.
const UNKNOWN_KID_TTL_MS = 5_000;
// Replicas starting together on an empty database must agree on one first key.
const KEYGEN_LOCK_KEY = 0x6272696b;

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  verifyKey: CryptoKey | Uint8Array;
  signKey: CryptoKey | Uint8Array | null;
  retired: boolean;
  createdAt: number;
}

async function generateStoredKey(db: Db): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  await db
    .insert(signingKeys)
    .values({ kid, publicJwk: { ...publicJwk, kid, alg: ALG, use: "sig" }, privateJwk })
    .onConflictDoNothing();
}

/**
 * The server's EdDSA signing keys. Either one fixed key from configuration, or keys the
 * server generates and keeps in the database (shared by every replica) and can rotate.
 */
export class KeyRing {
  private keys = new Map<string, LoadedKey>();
  private reloading: Promise<void> | null = null;
  private readonly unknownKids = new Map<string, number>();

  private constructor(
    private readonly db: Db,
    private readonly issuer: string,
    private readonly fixed: boolean,
  ) {}

  static async open(db: Db, options: { issuer: string; signingKeyPem?: string | undefined }): Promise<KeyRing> {
    if (options.signingKeyPem) {
      const ring = new KeyRing(db, options.issuer, true);
      const privateKey = createPrivateKey(options.signingKeyPem);
      const privateJwk = privateKey.export({ format: "jwk" }) as JWK;
      if (privateJwk.crv !== "Ed25519") throw new Error("BRIGADE_SIGNING_KEY must be an Ed25519 key");
      const { d: _secret, ...publicJwk } = privateJwk;
      const kid = await calculateJwkThumbprint(publicJwk);
      ring.keys.set(kid, {
        kid,
        publicJwk: { ...publicJwk, kid, alg: ALG, use: "sig" },
        verifyKey: await importJWK(publicJwk, ALG),
        signKey: await importJWK(privateJwk, ALG),
        retired: false,
        createdAt: 0,
      });
      return ring;
    }
    const ring = new KeyRing(db, options.issuer, false);
    await transaction(db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEYGEN_LOCK_KEY})`);
      const active = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).limit(1);
      if (active.length === 0) await generateStoredKey(tx);
    });
    await ring.reload();
    return ring;
  }

  /** Reloads from the database; concurrent callers share one reload. */
  reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async load(): Promise<void> {
    if (this.fixed) return;
    const rows = await this.db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const existing = this.keys.get(row.kid);
      next.set(row.kid, {
        kid: row.kid,
        publicJwk: row.publicJwk as JWK,
        verifyKey: existing?.verifyKey ?? (await importJWK(row.publicJwk as JWK, ALG)),
        signKey: existing?.signKey ?? (await importJWK(row.privateJwk as JWK, ALG)),
        retired: row.retiredAt !== null,
        createdAt: row.createdAt.getTime(),
      });
    }
    this.keys = next;
  }

  private signingKey(): LoadedKey {
    const active = [...this.keys.values()].filter((k) => !k.retired && k.signKey).sort((a, b) => b.createdAt - a.createdAt);
    if (!active[0]) throw new Error("no active signing key");
    return active[0];
  }

  async sign(claims: JWTPayload & { sub: string; jti: string }, expiresAt: Date): Promise<string> {
    const key = this.signingKey();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: "JWT" })
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(key.signKey!);
  }

  /** Key lookup for jose's jwtVerify; retired keys still verify the tokens they signed. */
  resolver = async (header: JWTHeaderParameters): Promise<CryptoKey | Uint8Array> => {
    const kid = header.kid;
    if (!kid) throw new Error("token has no kid");
    let key = this.keys.get(kid);
    if (!key && (this.unknownKids.get(kid) ?? 0) < Date.now()) {
      await this.reload();
      key = this.keys.get(kid);
      if (!key) {
        if (this.unknownKids.size > 10_000) this.unknownKids.clear();
        this.unknownKids.set(kid, Date.now() + UNKNOWN_KID_TTL_MS);
      }
    }
    if (!key) throw new Error("unknown signing key");
    return key.verifyKey;
  };

  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  get rotatable(): boolean {
    return !this.fixed;
  }

  /** Makes a new key the signing key; earlier keys keep verifying until their tokens expire. */
  async rotate(): Promise<{ kid: string; retired: string[] }> {
    const before = [...this.keys.values()].filter((k) => !k.retired).map((k) => k.kid);
    await generateStoredKey(this.db);
    await this.reload();
    const newest = this.signingKey();
    const retired = before.filter((kid) => kid !== newest.kid);
    if (retired.length > 0) {
      await this.db.update(signingKeys).set({ retiredAt: sql`now()` }).where(inArray(signingKeys.kid, retired));
      await this.reload();
    }
    return { kid: newest.kid, retired };
  }
}
