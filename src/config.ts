import { z } from "zod";

/**
 * Every setting Brigade reads from the environment, in one schema parsed once at start.
 * Nothing else in src/ reads process.env.
 */
const boolish = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = z
  .object({
    /** TCP port the HTTP server listens on. */
    PORT: intFrom(0, 65535).default(8080),
    /** Interface to bind; 0.0.0.0 in containers. */
    HOST: z.string().min(1).default("127.0.0.1"),
    /** PostgreSQL URL. Unset: embedded PGlite in BRIGADE_DATA_DIR. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    /** Connections of this process for requests: half (at least one) are lanes for transactions, the rest the postgres.js pool (infra/db.ts). */
    DATABASE_POOL_SIZE: intFrom(1, 200).default(20),
    /** PostgreSQL statement_timeout for this process's connections, in ms (a stuck statement fails with 503); 0: none. */
    DATABASE_STATEMENT_TIMEOUT_MS: intFrom(0, 3_600_000).default(15_000),
    /** How long a request waits for a database connection before it fails with 503 `db.unavailable`. */
    DATABASE_ACQUIRE_TIMEOUT_MS: intFrom(100, 600_000).default(5_000),
    /** NATS server URL(s), comma separated. Unset: in-process event bus. */
    NATS_URL: z.string().min(1).optional(),
    // ── How this server authenticates to NATS (at most one of user/password, token, NKey, creds file) and TLS.
    NATS_USER: z.string().min(1).optional(),
    NATS_PASSWORD: z.string().min(1).optional(),
    NATS_TOKEN: z.string().min(1).optional(),
    /** An NKey user seed (SU…): the server signs the NATS server's nonce with it. */
    NATS_NKEY_SEED: z
      .string()
      .regex(/^SU[A-Z2-7]+$/, "must be an NKey user seed (SU…)")
      .optional(),
    /** A `.creds` file (user JWT and seed), as nsc or scripts/nats-operator.ts write it. */
    NATS_CREDS_FILE: z.string().min(1).optional(),
    /** PEM files for TLS to NATS: the CA to trust, and a client certificate and key when NATS asks for one. */
    NATS_TLS_CA_FILE: z.string().min(1).optional(),
    NATS_TLS_CERT_FILE: z.string().min(1).optional(),
    NATS_TLS_KEY_FILE: z.string().min(1).optional(),
    /**
     * Scoped client credentials (POST /v1/nats/credentials): the seed of a signing key of the
     * NATS account clients connect to (SA…), and that account's public key (A…). Unset: the
     * endpoint answers 404 nats.credentials_disabled.
     */
    NATS_CLIENT_SIGNING_KEY: z
      .string()
      .regex(/^SA[A-Z2-7]+$/, "must be an NKey account seed (SA…)")
      .optional(),
    NATS_CLIENT_ACCOUNT: z
      .string()
      .regex(/^A[A-Z2-7]{55}$/, "must be an NKey account public key (A…)")
      .optional(),
    /** Lifetime of issued client credentials. */
    NATS_CLIENT_CREDENTIALS_TTL_SECONDS: intFrom(1, 7 * 86_400).default(3_600),
    /** NATS URL(s) handed to clients with their credentials (comma separated). Unset: NATS_URL. */
    NATS_CLIENT_URL: z.string().min(1).optional(),
    /**
     * First token(s) of every subject Brigade publishes (`<prefix>.<org>.events.<type>`, …);
     * deployments (or test runs) sharing one NATS keep apart by using different prefixes.
     */
    NATS_SUBJECT_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be dot-separated tokens of letters, digits, _ and -")
      .default("brigade"),
    /** JetStream stream over `<prefix>.>`, created or updated at start. Unset: the prefix upper-cased (BRIGADE). */
    NATS_STREAM: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ and -")
      .optional(),
    /**
     * Copies JetStream keeps of the stream (its replication factor), set when the stream is
     * created or updated: 1 on a single NATS server, 3 on a three-node cluster (at most 5).
     */
    NATS_STREAM_REPLICAS: intFrom(1, 5).default(1),
    /** How long the stream keeps messages (JetStream max age). */
    NATS_STREAM_MAX_AGE_SECONDS: intFrom(60, 365 * 86_400).default(7 * 86_400),
    /** JetStream de-duplication window: a message id published again within it is stored once. */
    NATS_DUPLICATE_WINDOW_SECONDS: intFrom(1, 86_400).default(120),
    /** How long the relay waits for JetStream to acknowledge a publish before retrying. */
    NATS_PUBLISH_TIMEOUT_MS: intFrom(100, 60_000).default(2_000),
    /** Events the outbox relay publishes per transaction. */
    RELAY_BATCH_SIZE: intFrom(1, 10_000).default(500),
    /** Backstop: the relay looks at the outbox this often even when nothing woke it. */
    RELAY_POLL_INTERVAL_MS: intFrom(50, 3_600_000).default(1_000),
    /**
     * /readyz answers 503 when the oldest unpublished event is older than this while the bus is
     * connected (the relay is stuck, not the bus away). 0: lag never makes the process unready.
     */
    RELAY_MAX_LAG_SECONDS: intFrom(0, 7 * 86_400).default(30),
    /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`; unset, it is public. */
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    /** /v1/stream: the server pings each socket this often and drops one that missed the previous ping. */
    STREAM_PING_INTERVAL_MS: intFrom(50, 3_600_000).default(30_000),
    /**
     * How often a replica tells the others its stream sockets are still open (socketsPerToken
     * counts the sockets of every replica); a replica silent for 3.5 times this long has died and
     * its sockets stop counting.
     */
    STREAM_SOCKETS_HEARTBEAT_MS: intFrom(100, 600_000).default(10_000),
    /** /v1/stream: a socket with more than this many bytes waiting to be sent is closed (4008, slow consumer). */
    STREAM_MAX_BUFFERED_BYTES: intFrom(1024, 256 * 1024 * 1024).default(1024 * 1024),
    /** Folder for the embedded database and other local state. */
    BRIGADE_DATA_DIR: z.string().min(1).default("./.brigade"),
    /**
     * Log line format on stdout: `auto` (readable lines on a terminal, JSON otherwise), `json`
     * or `pretty`. The startup banner goes to stderr either way.
     */
    LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),
    /** pino log level. */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** Session lease bounds and default, in seconds. */
    SESSION_TTL_MIN_SECONDS: intFrom(1, 86_400).default(15),
    SESSION_TTL_MAX_SECONDS: intFrom(1, 7 * 86_400).default(86_400),
    SESSION_TTL_DEFAULT_SECONDS: intFrom(1, 7 * 86_400).default(300),
    /** Claim lease bounds and default, in seconds. */
    CLAIM_TTL_MIN_SECONDS: intFrom(1, 86_400).default(5),
    CLAIM_TTL_MAX_SECONDS: intFrom(1, 7 * 86_400).default(86_400),
    CLAIM_TTL_DEFAULT_SECONDS: intFrom(1, 7 * 86_400).default(1_800),
    /** How long a queued claim request may wait (maxWaitSeconds): the longest allowed, and the default. */
    CLAIM_QUEUE_MAX_WAIT_SECONDS: intFrom(1, 7 * 86_400).default(86_400),
    CLAIM_QUEUE_DEFAULT_WAIT_SECONDS: intFrom(1, 7 * 86_400).default(1_800),
    /** How often this process looks for expired sessions and claims. */
    SWEEP_INTERVAL_MS: intFrom(50, 3_600_000).default(1_000),
    /**
     * How long the event log (and the alerts addressing its events) is kept, in days; 0 keeps
     * it forever. The default covers the dashboard's longest trend range.
     */
    EVENT_RETENTION_DAYS: intFrom(0, 36_500).default(90),
    /** How often this process prunes the event log past its retention. */
    EVENT_RETENTION_SWEEP_MS: intFrom(1_000, 86_400_000).default(60_000),
    /**
     * Principal cache: token rows (revocation, role) served from memory and invalidated by the
     * events every replica receives over the bus. `off`: every request reads its token's row.
     */
    AUTH_CACHE: z.enum(["on", "off"]).default("on"),
    /** Backstop: a cached token row is read again after this long, whatever the bus said (or missed). */
    AUTH_CACHE_MAX_AGE_SECONDS: intFrom(1, 600).default(30),
    /** Token rows the principal cache holds at most; the oldest go first. */
    AUTH_CACHE_MAX_ENTRIES: intFrom(1, 10_000_000).default(50_000),
    /**
     * How far V8 lets the heap grow past the live data after a full collection, in percent
     * (`--heap-growing-percent`); 0 keeps V8's own policy. Under bursts of writes V8's policy
     * lets the heap reach three to four times the live data; 50 keeps RSS near the data at the
     * same throughput, but collects more often, which shows in the tail of a saturated server
     * (figures in docs/architecture.md, "Performance notes").
     */
    HEAP_GROWTH_PERCENT: intFrom(0, 400).default(50),
    /** Personal token lifetime bounds (seconds). */
    TOKEN_TTL_DEFAULT_SECONDS: intFrom(60, 10 * 365 * 86_400).default(90 * 86_400),
    TOKEN_TTL_MAX_SECONDS: intFrom(60, 10 * 365 * 86_400).default(365 * 86_400),
    /**
     * Optional Ed25519 private key (PKCS#8 PEM) to sign tokens with. Unset: the server
     * generates keys, keeps them in the database and rotates them on request.
     */
    BRIGADE_SIGNING_KEY: z
      .string()
      .refine((v) => v.includes("BEGIN PRIVATE KEY"), "must be a PKCS#8 PEM private key")
      .optional(),
    /** Issuer (iss) written into and required of Brigade's own tokens. */
    BRIGADE_ISSUER: z.string().min(1).default("brigade"),
    /**
     * Development root credential. When set and no organisation exists, start creates
     * organisation `default` with user `admin`; a bearer token equal to it acts as that admin.
     */
    BRIGADE_BOOTSTRAP_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    /** Optional external OIDC issuer whose tokens are accepted (through its JWKS). */
    OIDC_ISSUER: z.string().url().optional(),
    /** Audience required of OIDC tokens; mandatory with OIDC_ISSUER. */
    OIDC_AUDIENCE: z.string().min(1).optional(),
    /** Organisation (slug) that OIDC users belong to. */
    OIDC_ORG: z.string().min(1).default("default"),
    /** Claim holding the user's e-mail in OIDC tokens; users are matched by e-mail. */
    OIDC_EMAIL_CLAIM: z.string().min(1).default("email"),
    /** Largest request body accepted, in bytes. */
    BODY_LIMIT_BYTES: intFrom(1024, 64 * 1024 * 1024).default(1024 * 1024),
    /**
     * Largest contract content (a version, a proposal, a check), in bytes of UTF-8; larger is a
     * 413. The contract routes accept bodies of twice this (JSON escaping) regardless of BODY_LIMIT_BYTES.
     */
    CONTRACT_MAX_BYTES: intFrom(1024, 64 * 1024 * 1024).default(5 * 1024 * 1024),
    /**
     * On SIGTERM the server answers /readyz with 503 (`server.draining`) for this long before it
     * stops accepting connections, so load balancers take it out of rotation first.
     */
    SHUTDOWN_DRAIN_DELAY_SECONDS: intFrom(0, 300).default(5),
    /**
     * Seconds the whole shutdown may take (drain delay included) before the process exits anyway;
     * keep it below the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds).
     */
    SHUTDOWN_GRACE_SECONDS: intFrom(0, 300).default(20),
    /** Trust X-Forwarded-* headers (behind a load balancer). */
    TRUST_PROXY: boolish.default(false),
    /**
     * Steps of pattern work (overlap search, path matching) one claim, check or touch report may
     * cause; over it the request is refused (422 claims.too_complex, or patterns.too_complex for a
     * directory's owners). Long work yields the event
     * loop every few milliseconds whatever this is.
     */
    PATTERN_WORK_BUDGET: intFrom(10_000, 1_000_000_000).default(5_000_000),
    /** Most files a repository tree (PUT/PATCH …/tree) may list; more is a 413 trees.too_large. */
    TREE_MAX_FILES: intFrom(1_000, 20_000_000).default(2_000_000),
    /**
     * Largest tree upload, in bytes after gzip decompression (a 1,000,000-file list is about
     * 60 MB of JSON, 6 MB gzipped). Applies to the tree routes instead of BODY_LIMIT_BYTES.
     */
    TREE_BODY_LIMIT_BYTES: intFrom(1024, 1024 * 1024 * 1024).default(256 * 1024 * 1024),
    /** Trees each replica keeps built in memory (least recently used dropped past it). */
    TREE_CACHE_TREES: intFrom(1, 10_000).default(64),
    /**
     * Who-owns answers come from memory (a repo's claims index, CODEOWNERS and modules, the
     * holders' names), dropped by the events that change them as every replica receives them
     * over the bus, and not served while the bus is down. Backstop: an answer is checked against
     * the database at least this often (ms), whatever the bus said or missed.
     */
    OWNERS_MAX_AGE_MS: intFrom(100, 600_000).default(5_000),
    /** Worker threads parsing and diffing contracts (JSON Schema, OpenAPI, GraphQL). */
    CONTRACT_WORKERS: intFrom(1, 64).default(2),
    /** Longest a contract parse or diff may run in a worker; over it: 422 contracts.too_complex, worker replaced. */
    CONTRACT_WORK_TIMEOUT_MS: intFrom(100, 600_000).default(5_000),
    /** Heap limit of each contract worker; a parse or diff that needs more: 422 contracts.too_complex, worker replaced. */
    CONTRACT_WORK_MEMORY_MB: intFrom(16, 16_384).default(256),
    /** Normalised texts of contracts' latest versions kept in memory (MB), so a publish diffs without reading its base back; 0: none. */
    CONTRACT_TEXT_CACHE_MB: intFrom(0, 16_384).default(64),
    // Limits (README, Security → Limits). A count of 0 turns that limit off; an organisation's
    // own values, set by the operator (PATCH /v1/orgs/{org}/limits), replace these defaults.
    /** Length of the fixed window that request limits count in, in seconds. */
    RATE_LIMIT_WINDOW_SECONDS: intFrom(1, 86_400).default(60),
    /** Requests one token (or the bootstrap/OIDC user) may make per window, across every replica. */
    RATE_LIMIT_TOKEN_REQUESTS: intFrom(0, 1_000_000_000).default(60_000),
    /** Requests one organisation may make per window, all its tokens together, across every replica. */
    RATE_LIMIT_ORG_REQUESTS: intFrom(0, 1_000_000_000).default(300_000),
    /**
     * Messages one user may send per window (new threads and replies, from every token and
     * session of theirs together), across every replica: an agent in a loop cannot flood a team.
     */
    RATE_LIMIT_MESSAGES_PER_SENDER: intFrom(0, 1_000_000_000).default(120),
    /**
     * Requests a replica reserves from the shared counter at once, so that not every request
     * writes to the database; never more than a twentieth of the limit, so small limits stay exact.
     */
    RATE_LIMIT_RESERVE_CHUNK: intFrom(1, 100_000).default(50),
    /** Patterns an organisation's active claims may hold together. */
    QUOTA_CLAIM_PATTERNS_PER_ORG: intFrom(0, 100_000_000).default(100_000),
    /** Patterns one session's active claims may hold together. */
    QUOTA_CLAIM_PATTERNS_PER_SESSION: intFrom(0, 100_000_000).default(4_096),
    /** /v1/stream sockets one token may hold open on one replica. */
    QUOTA_SOCKETS_PER_TOKEN: intFrom(0, 1_000_000).default(32),
    /** Subscriptions one /v1/stream socket may hold. */
    QUOTA_SUBSCRIPTIONS_PER_SOCKET: intFrom(0, 10_000).default(32),
    /** Subscriptions one token may hold over all its sockets on one replica. */
    QUOTA_SUBSCRIPTIONS_PER_TOKEN: intFrom(0, 1_000_000).default(256),
    /** Bytes of contract content (versions and proposals) one organisation may store. */
    QUOTA_CONTRACT_BYTES_PER_ORG: intFrom(0, Number.MAX_SAFE_INTEGER).default(1024 * 1024 * 1024),
  })
  .superRefine((c, ctx) => {
    if (c.SESSION_TTL_MIN_SECONDS > c.SESSION_TTL_MAX_SECONDS) {
      ctx.addIssue({ code: "custom", path: ["SESSION_TTL_MIN_SECONDS"], message: "must not exceed SESSION_TTL_MAX_SECONDS" });
    }
    if (c.SESSION_TTL_DEFAULT_SECONDS < c.SESSION_TTL_MIN_SECONDS || c.SESSION_TTL_DEFAULT_SECONDS > c.SESSION_TTL_MAX_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["SESSION_TTL_DEFAULT_SECONDS"],
        message: "must lie within SESSION_TTL_MIN_SECONDS..SESSION_TTL_MAX_SECONDS",
      });
    }
    if (c.CLAIM_TTL_DEFAULT_SECONDS < c.CLAIM_TTL_MIN_SECONDS || c.CLAIM_TTL_DEFAULT_SECONDS > c.CLAIM_TTL_MAX_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["CLAIM_TTL_DEFAULT_SECONDS"],
        message: "must lie within CLAIM_TTL_MIN_SECONDS..CLAIM_TTL_MAX_SECONDS",
      });
    }
    if (c.TOKEN_TTL_DEFAULT_SECONDS > c.TOKEN_TTL_MAX_SECONDS) {
      ctx.addIssue({ code: "custom", path: ["TOKEN_TTL_DEFAULT_SECONDS"], message: "must not exceed TOKEN_TTL_MAX_SECONDS" });
    }
    if (c.OIDC_AUDIENCE && !c.OIDC_ISSUER) {
      ctx.addIssue({ code: "custom", path: ["OIDC_AUDIENCE"], message: "needs OIDC_ISSUER" });
    }
    const natsAuth = [c.NATS_USER, c.NATS_TOKEN, c.NATS_NKEY_SEED, c.NATS_CREDS_FILE].filter((v) => v !== undefined).length;
    if (natsAuth > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["NATS_USER"],
        message: "set at most one of NATS_USER, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS_FILE",
      });
    }
    if ((c.NATS_USER === undefined) !== (c.NATS_PASSWORD === undefined)) {
      ctx.addIssue({ code: "custom", path: ["NATS_PASSWORD"], message: "NATS_USER and NATS_PASSWORD go together" });
    }
    if ((c.NATS_TLS_CERT_FILE === undefined) !== (c.NATS_TLS_KEY_FILE === undefined)) {
      ctx.addIssue({ code: "custom", path: ["NATS_TLS_KEY_FILE"], message: "NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together" });
    }
    if ((c.NATS_CLIENT_SIGNING_KEY === undefined) !== (c.NATS_CLIENT_ACCOUNT === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["NATS_CLIENT_ACCOUNT"],
        message: "NATS_CLIENT_SIGNING_KEY and NATS_CLIENT_ACCOUNT go together",
      });
    }
    // Without an audience, any token the issuer signed for any application would be accepted.
    if (c.OIDC_ISSUER && !c.OIDC_AUDIENCE) {
      ctx.addIssue({ code: "custom", path: ["OIDC_AUDIENCE"], message: "is required with OIDC_ISSUER" });
    }
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses an environment-like record; lists every invalid key in one error. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset", as in most shells' `FOO= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return result.data;
}
