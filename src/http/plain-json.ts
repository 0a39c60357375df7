/**
 * A reply serializer for hot routes: the reply as plain JSON, not re-validated against its
 * response schema. Fastify's zod serializer checks every reply field by field, which costs a hot
 * route a noticeable share of its time; where the reply is built by typed code (the type
 * provider checks it against the schema at compile time), that check only repeats the compiler's.
 * The schema still documents the reply; a route that uses this has its tests read replies
 * against the schema (the message lists' do, field for field).
 */
export const plainJson = () => (data: unknown) => JSON.stringify(data);
