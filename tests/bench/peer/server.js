// The peer: POST /v1/payments as many teams would write it — Fastify, the pg
// pool, JSON schema validation — running the same SQL as keptd on the same
// database: authenticate the key (SHA-256, not revoked, a staff role), then
// kept.payment_post with the body and the Idempotency-Key.
//
//   PEER_LISTEN=127.0.0.1:18090 DATABASE_URL=postgresql://... PEER_POOL=32 node server.js
import { createHash, randomBytes } from "node:crypto";
import Fastify from "fastify";
import pg from "pg";

const [host, port] = (process.env.PEER_LISTEN || "127.0.0.1:18090").split(":");
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PEER_POOL || 32) });
const app = Fastify({ logger: false, bodyLimit: 1 << 20 });

const body = {
  type: "object",
  additionalProperties: false,
  required: ["account_id", "amount_cents", "received_at", "source", "source_ref"],
  properties: {
    account_id: { type: "integer", minimum: 1 },
    amount_cents: { type: "integer", minimum: 1, maximum: 999999999999999 },
    received_at: { type: "string", maxLength: 40 },
    source: { type: "string", maxLength: 40 },
    source_ref: { type: "string", maxLength: 128 },
  },
};

app.post("/v1/payments", { schema: { body } }, async (req, reply) => {
  const auth = req.headers.authorization || "";
  const key = auth.startsWith("Bearer ") ? auth.slice(7) : "";
  const idem = req.headers["idempotency-key"];
  if (!key) return reply.code(401).send({ error: { code: "missing_key", message: "an API key is required" } });
  if (!idem) return reply.code(400).send({ error: { code: "missing_idempotency_key", message: "Idempotency-Key is required" } });
  const hash = createHash("sha256").update(key).digest();
  const who = await pool.query("SELECT key_id AS id, roles, state FROM kept.api_key_authenticate($1)", [hash.toString("hex")]);
  if (who.rowCount === 0 || who.rows[0].state !== "ok") return reply.code(401).send({ error: { code: "invalid_key", message: "unknown key" } });
  if (!who.rows[0].roles.split(",").some((r) => ["finance", "admin"].includes(r))) return reply.code(403).send({ error: { code: "forbidden_role" } });
  try {
    const r = await pool.query("SELECT kept.payment_post(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb, $5) AS p",
      [who.rows[0].id, `key:${who.rows[0].id}`, randomBytes(12).toString("hex"), JSON.stringify(req.body), idem]);
    return reply.code(201).send(r.rows[0].p);
  } catch (e) {
    const status = /^KR(\d{3})$/.test(e.code || "") ? Number(e.code.slice(2)) : e.code === "23505" ? 409 : 500;
    return reply.code(status).send({ error: { code: e.hint || "error", message: e.message } });
  }
});

await app.listen({ host, port: Number(port) });
console.log(`peer listening on ${host}:${port}`);
