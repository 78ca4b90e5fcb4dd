/* auth: key shape, hashing, roles, actor parameters (the database part is
 * covered by the integration tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "db/db.h"

static void generated_keys_have_the_documented_shape(void **state)
{
	(void)state;
	char key[AUTH_KEY_LEN + 1], key2[AUTH_KEY_LEN + 1], hash[65], again[65];
	assert_int_equal(auth_key_generate(key, hash), KEPT_OK);
	assert_int_equal(auth_key_generate(key2, again), KEPT_OK);
	assert_int_equal(strlen(key), AUTH_KEY_LEN);
	assert_memory_equal(key, "kept_", 5);
	assert_string_not_equal(key, key2);
	char expected[65];
	crypto_sha256_hex(key, strlen(key), expected);
	assert_string_equal(hash, expected);
	assert_true(auth_key_hash(key, again));
	assert_string_equal(again, hash);
}

static void malformed_keys_are_not_hashed(void **state)
{
	(void)state;
	char hash[65];
	char key[AUTH_KEY_LEN + 1];
	assert_int_equal(auth_key_generate(key, hash), KEPT_OK);
	assert_false(auth_key_hash(NULL, hash));
	assert_false(auth_key_hash("", hash));
	key[AUTH_KEY_LEN - 1] = '\0';
	assert_false(auth_key_hash(key, hash));
	assert_false(auth_key_hash("kept_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", hash));
	assert_false(auth_key_hash("nope_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", hash));
}

static void roles(void **state)
{
	(void)state;
	enum auth_role r;
	assert_true(auth_role_parse("finance", &r));
	assert_int_equal(r, AUTH_FINANCE);
	assert_string_equal(auth_role_name(AUTH_SUPERVISOR), "supervisor");
	assert_false(auth_role_parse("Admin", &r));
	assert_false(auth_role_parse(NULL, &r));
}

static void actor_parameters(void **state)
{
	(void)state;
	struct auth_actor cli;
	auth_actor_cli(&cli);
	assert_true(auth_actor_key(&cli) == DB_NULL_BIGINT); /* SQL NULL: no key */
	assert_string_equal(cli.label, "keptd-cli");
	assert_null(cli.request_id);
	struct auth_actor key = {"12", "key:12 user:7:alice", "req-1"};
	assert_int_equal(auth_actor_key(&key), 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(generated_keys_have_the_documented_shape),
	        cmocka_unit_test(malformed_keys_are_not_hashed),
	        cmocka_unit_test(roles),
	        cmocka_unit_test(actor_parameters),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
