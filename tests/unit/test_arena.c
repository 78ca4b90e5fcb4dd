/* arena: bump allocation, alignment, the hard cap, deferred releases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena/arena.h"

static int released[4];
static int release_order[4];
static int release_count;

static void release(void *p)
{
	int i = *(int *)p;
	released[i]++;
	release_order[release_count++] = i;
}

static void allocations_are_aligned_and_distinct(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	char *p = arena_alloc(a, 3);
	char *q = arena_alloc(a, 5);
	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_int_equal((uintptr_t)q % 16, 0);
	assert_ptr_not_equal(p, q);
	memset(p, 'x', 3);
	memset(q, 'y', 5);
	assert_int_equal(p[2], 'x');
	arena_free(a);
}

static void large_allocations_get_their_own_chunk(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	char *big = arena_alloc(a, 3u << 20);
	assert_non_null(big);
	memset(big, 1, 3u << 20);
	assert_true(arena_used(a) >= (3u << 20));
	arena_free(a);
}

static void the_cap_is_hard(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	assert_non_null(arena_alloc(a, 1000));
	assert_null(arena_alloc(a, 100));
	assert_null(arena_alloc(a, SIZE_MAX));
	assert_non_null(arena_alloc(a, 16));
	arena_free(a);
}

static void strings_and_printf(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	assert_string_equal(arena_strdup(a, "kept"), "kept");
	assert_string_equal(arena_strndup(a, "kept-it", 4), "kept");
	assert_null(arena_strdup(a, NULL));
	assert_string_equal(arena_sprintf(a, "%s/%d", "/v1/customers", 42), "/v1/customers/42");
	char *z = arena_zalloc(a, 64);
	for (int i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	arena_free(a);
}

static void deferred_releases_run_once_newest_first(void **state)
{
	(void)state;
	static int ids[3] = {0, 1, 2};
	memset(released, 0, sizeof released);
	release_count = 0;
	struct arena *a = arena_new(0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(arena_defer(a, release, &ids[i]), KEPT_OK);
	assert_int_equal(released[0] + released[1] + released[2], 0);
	arena_free(a);
	assert_int_equal(released[0], 1);
	assert_int_equal(released[1], 1);
	assert_int_equal(released[2], 1);
	assert_int_equal(release_order[0], 2);
	assert_int_equal(release_order[2], 0);
	arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(allocations_are_aligned_and_distinct),
	        cmocka_unit_test(large_allocations_get_their_own_chunk),
	        cmocka_unit_test(the_cap_is_hard),
	        cmocka_unit_test(strings_and_printf),
	        cmocka_unit_test(deferred_releases_run_once_newest_first),
	};
	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
