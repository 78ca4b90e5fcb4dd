/*
 * auth — API keys and roles.
 *
 * A key is "kept_" followed by the unpadded base64url of 32 random bytes
 * from OpenSSL (48 characters in all). It is shown once, when created; the
 * database stores only its SHA-256. Authenticating hashes the presented key
 * and looks the hash up, so the key itself never reaches the database or a
 * log line.
 *
 * A key belongs to a user: a person with a name, a team and roles. The key
 * acts in its own role while its user holds it, or in every role of its
 * user when it has none; a key of an inactive user, a revoked key and an
 * expired key authenticate no one.
 *
 * Every write is attributed to an actor (struct auth_actor): the API key that
 * made the request, and through it the user, or "keptd-cli" for the keptd
 * command line. The actor's fields are ready to pass as the first three
 * parameters of kept's write queries (key id or NULL, label, request id);
 * the label names both ("key:12 user:7:Ann Example").
 */
#ifndef KEPT_AUTH_H
#define KEPT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

#define AUTH_KEY_PREFIX       "kept_"
#define AUTH_KEY_RANDOM_BYTES 32
#define AUTH_KEY_LEN          48 /* prefix + base64url(32 bytes) */

enum auth_role {
	AUTH_AGENT = 1u << 0,
	AUTH_SUPERVISOR = 1u << 1,
	AUTH_FINANCE = 1u << 2,
	AUTH_ADMIN = 1u << 3,
};

struct auth_actor {
	char key_id[24];        /* decimal API key id; "" for the command line */
	char label[160];        /* "key:12 user:7:alice" or "keptd-cli" */
	const char *request_id; /* NULL outside requests; not owned */
};

struct auth_principal {
	long long key_id;
	long long user_id;
	unsigned roles; /* bit set of enum auth_role the key acts in (may be 0) */
	char team[72];  /* the user's team */
	struct auth_actor actor;
};

/* "agent" -> AUTH_AGENT, ...; false for anything else. */
bool auth_role_parse(const char *name, enum auth_role *out);
const char *auth_role_name(enum auth_role role);

/* A comma-separated list of role names ("agent,admin") -> bit set; unknown names are skipped. */
unsigned auth_roles_parse(const char *list);

/* "agent, supervisor" for a bit set, into out (cut to out_size); "no role" when empty. */
void auth_roles_format(unsigned roles, char *out, size_t out_size);

/* A fresh key and the hex SHA-256 to store for it. */
kept_err auth_key_generate(char key[AUTH_KEY_LEN + 1], char hash_hex[65]) KEPT_MUST_CHECK;

/* The hex SHA-256 of `key` if it has the shape of a kept key; false otherwise
 * (no database lookup is worth making for a malformed key). */
bool auth_key_hash(const char *key, char hash_hex[65]);

/*
 * Authenticates an Authorization header value ("Bearer <key>"). Missing,
 * malformed, unknown and revoked keys and keys of inactive users fail with
 * KEPT_ERR_UNAUTHENTICATED (codes missing_api_key / invalid_api_key), an
 * expired key with expired_api_key; a database failure is returned as is.
 */
kept_err auth_authenticate(struct db_conn *db, struct arena *arena, const char *authorization,
                           const char *request_id, struct auth_principal *out,
                           struct kept_error *err) KEPT_MUST_CHECK;

/* The actor for writes made by the keptd command line. */
void auth_actor_cli(struct auth_actor *out);

/* The actor's API key id as a write query takes it: DB_NULL_BIGINT for the command line. */
int64_t auth_actor_key(const struct auth_actor *actor);

/* The first three arguments of a typed write query (db_queries.h): key id
 * (DB_NULL_BIGINT for the command line), label, request id; the query makes
 * them the one kept.actor its SQL function takes (schema/0032_actor.sql). */
#define AUTH_ACTOR_ARGS(actor) auth_actor_key(actor), (actor)->label, (actor)->request_id

/*
 * Creates a key on behalf of `actor` as `spec` (JSON text) says:
 * {"user_id", "role"?, "name"?, "expires_at"?} or {"name", "role"} (the user
 * of that name, made when there is none; see kept.api_key_create). *key
 * receives the key (arena-owned, to be shown once); *json the key's record.
 */
kept_err auth_key_create(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                         const char *spec, const char **key, const char **json,
                         struct kept_error *err) KEPT_MUST_CHECK;

#endif
