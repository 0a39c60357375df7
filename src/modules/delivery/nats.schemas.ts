import { z } from "zod";

export const natsCredentialsBody = z
  .object({
    ttlSeconds: z.number().int().optional().describe("Lifetime wanted, at most (and by default) NATS_CLIENT_CREDENTIALS_TTL_SECONDS."),
  })
  .strict()
  .nullish();
export type NatsCredentialsInput = z.infer<typeof natsCredentialsBody>;

export const natsCredentialsSchema = z
  .object({
    jwt: z.string().describe("The NATS user JWT, signed by the account signing key Brigade holds."),
    seed: z.string().describe("The user's NKey seed (SU…), generated for this answer and not kept by the server: a secret."),
    creds: z.string().describe("JWT and seed as a NATS .creds file, for clients and tools that read one."),
    expiresAt: z.iso.datetime().describe("When NATS stops accepting the credentials; ask again before."),
    servers: z.array(z.string()).describe("NATS URLs to connect to (empty when the server has none to offer)."),
    permissions: z
      .object({
        subscribe: z.array(z.string()).describe("Subjects (NATS wildcards) the credentials may subscribe to."),
        publish: z.array(z.string()).describe("Always empty: only Brigade's servers publish."),
      })
      .strict(),
  })
  .strict()
  .meta({ id: "NatsCredentials" });
