#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"

static const struct {
	const char *name;
	enum auth_role role;
} roles_of[] = {
        {"agent", AUTH_AGENT},
        {"supervisor", AUTH_SUPERVISOR},
        {"finance", AUTH_FINANCE},
        {"admin", AUTH_ADMIN},
};

bool auth_role_parse(const char *name, enum auth_role *out)
{
	for (size_t i = 0; i < sizeof roles_of / sizeof roles_of[0]; i++) {
		if (name && strcmp(name, roles_of[i].name) == 0) {
			*out = roles_of[i].role;
			return true;
		}
	}
	return false;
}

const char *auth_role_name(enum auth_role role)
{
	for (size_t i = 0; i < sizeof roles_of / sizeof roles_of[0]; i++)
		if (roles_of[i].role == role)
			return roles_of[i].name;
	return "unknown";
}

unsigned auth_roles_parse(const char *list)
{
	unsigned roles = 0;
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		for (size_t i = 0; i < sizeof roles_of / sizeof roles_of[0]; i++)
			if (strlen(roles_of[i].name) == n && strncmp(p, roles_of[i].name, n) == 0)
				roles |= roles_of[i].role;
		p += n;
		if (*p == ',')
			p++;
	}
	return roles;
}

void auth_roles_format(unsigned roles, char *out, size_t out_size)
{
	size_t n = 0;
	if (out_size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof roles_of / sizeof roles_of[0]; i++) {
		if (!(roles & roles_of[i].role))
			continue;
		int w = snprintf(out + n, out_size - n, "%s%s", n ? ", " : "", roles_of[i].name);
		if (w < 0 || (size_t)w >= out_size - n)
			return;
		n += (size_t)w;
	}
	if (!n)
		snprintf(out, out_size, "no role");
}

kept_err auth_key_generate(char key[AUTH_KEY_LEN + 1], char hash_hex[65])
{
	unsigned char raw[AUTH_KEY_RANDOM_BYTES];
	kept_err r = crypto_random(raw, sizeof raw);
	if (r)
		return r;
	memcpy(key, AUTH_KEY_PREFIX, sizeof AUTH_KEY_PREFIX - 1);
	crypto_base64url(raw, sizeof raw, key + sizeof AUTH_KEY_PREFIX - 1);
	crypto_sha256_hex(key, strlen(key), hash_hex);
	return KEPT_OK;
}

bool auth_key_hash(const char *key, char hash_hex[65])
{
	const size_t plen = sizeof AUTH_KEY_PREFIX - 1;
	if (!key || strlen(key) != AUTH_KEY_LEN || strncmp(key, AUTH_KEY_PREFIX, plen) != 0)
		return false;
	unsigned char raw[AUTH_KEY_RANDOM_BYTES + 2];
	size_t n;
	if (!crypto_base64url_decode(key + plen, AUTH_KEY_LEN - plen, raw, sizeof raw, &n) ||
	    n != AUTH_KEY_RANDOM_BYTES)
		return false;
	crypto_sha256_hex(key, AUTH_KEY_LEN, hash_hex);
	return true;
}

/* "Bearer <key>", scheme case-insensitive, single space-separated token. */
static const char *bearer_token(const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	const char *t = authorization + 7;
	while (*t == ' ')
		t++;
	return *t ? t : NULL;
}

static void actor_for(struct auth_principal *p, const char *name, const char *request_id)
{
	snprintf(p->actor.key_id, sizeof p->actor.key_id, "%lld", p->key_id);
	snprintf(p->actor.label, sizeof p->actor.label, "key:%lld user:%lld:%s", p->key_id, p->user_id, name);
	p->actor.request_id = request_id;
}

/* Row of api_key_authenticate: key_id, user_id, user_name, team, roles, state. */
static kept_err principal_of(const struct db_result *res, const char *request_id, struct auth_principal *out,
                             struct kept_error *err)
{
	const char *state = db_value(res, 0, 5);
	if (state && strcmp(state, "expired") == 0)
		return kept_fail(err, KEPT_ERR_UNAUTHENTICATED, "expired_api_key", "Authorization",
		                 "the API key has expired; ask an admin for a new one");
	if (!state || strcmp(state, "ok") != 0)
		return kept_fail(err, KEPT_ERR_UNAUTHENTICATED, "invalid_api_key", "Authorization",
		                 "the API key is not valid");
	out->key_id = strtoll(db_value(res, 0, 0), NULL, 10);
	out->user_id = strtoll(db_value(res, 0, 1), NULL, 10);
	out->roles = auth_roles_parse(db_value(res, 0, 4));
	snprintf(out->team, sizeof out->team, "%s", db_value(res, 0, 3) ? db_value(res, 0, 3) : "");
	actor_for(out, db_value(res, 0, 2) ? db_value(res, 0, 2) : "", request_id);
	return KEPT_OK;
}

kept_err auth_authenticate(struct db_conn *db, struct arena *arena, const char *authorization,
                           const char *request_id, struct auth_principal *out, struct kept_error *err)
{
	if (!authorization)
		return kept_fail(err, KEPT_ERR_UNAUTHENTICATED, "missing_api_key", "Authorization",
		                 "an API key is required: Authorization: Bearer <key>");
	char hash[65];
	const char *key = bearer_token(authorization);
	if (!key || !auth_key_hash(key, hash))
		return kept_fail(err, KEPT_ERR_UNAUTHENTICATED, "invalid_api_key", "Authorization",
		                 "the API key is not valid");
	struct db_result *res;
	kept_err r = q_api_key_authenticate(db, arena, hash, &res, err);
	if (r)
		return r;
	if (db_rows(res) != 1)
		return kept_fail(err, KEPT_ERR_UNAUTHENTICATED, "invalid_api_key", "Authorization",
		                 "the API key is not valid");
	return principal_of(res, request_id, out, err);
}

void auth_actor_cli(struct auth_actor *out)
{
	out->key_id[0] = '\0';
	snprintf(out->label, sizeof out->label, "keptd-cli");
	out->request_id = NULL;
}

int64_t auth_actor_key(const struct auth_actor *actor)
{
	return actor->key_id[0] ? strtoll(actor->key_id, NULL, 10) : DB_NULL_BIGINT;
}

kept_err auth_key_create(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                         const char *spec, const char **key, const char **json, struct kept_error *err)
{
	char *k = arena_alloc(arena, AUTH_KEY_LEN + 1);
	char hash[65];
	if (!k)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	if (auth_key_generate(k, hash))
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "no randomness for a key");
	kept_err r = q_api_key_create_value(db, arena, AUTH_ACTOR_ARGS(actor), spec, hash, json, err);
	if (r)
		return r;
	*key = k;
	return KEPT_OK;
}
