#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

/* Slots looked at for one key before the stalest of them is taken over. */
#define PROBES 16

struct bucket {
	long long key; /* 0: free */
	double tokens;
	uint64_t last_ns;
};

struct ratelimit {
	double rate;  /* tokens a second */
	double burst; /* tokens at most */
	pthread_mutex_t lock;
	struct bucket slots[RATELIMIT_SLOTS];
};

struct ratelimit *ratelimit_new(double rate, double burst)
{
	if (!(rate > 0) || !(burst >= 1))
		return NULL;
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	rl->rate = rate;
	rl->burst = burst;
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static double refilled(const struct ratelimit *rl, const struct bucket *b, uint64_t now_ns)
{
	double seconds = now_ns > b->last_ns ? (double)(now_ns - b->last_ns) / 1e9 : 0;
	double t = b->tokens + seconds * rl->rate;
	return t > rl->burst ? rl->burst : t;
}

/* The key's bucket, or the slot it may take: a free one, else the one that
 * has been idle longest (full again, or nearly). */
static struct bucket *find(struct ratelimit *rl, long long key, uint64_t now_ns)
{
	size_t start = (size_t)((unsigned long long)key * 0x9E3779B97F4A7C15ULL >> 51) % RATELIMIT_SLOTS;
	struct bucket *stalest = NULL;
	for (size_t i = 0; i < PROBES; i++) {
		struct bucket *b = &rl->slots[(start + i) % RATELIMIT_SLOTS];
		if (b->key == key)
			return b;
		if (b->key == 0 || !stalest || b->last_ns < stalest->last_ns)
			stalest = b;
		if (b->key == 0)
			break;
	}
	stalest->key = key;
	stalest->tokens = rl->burst;
	stalest->last_ns = now_ns;
	return stalest;
}

/* Whole seconds, rounded up. */
static int seconds_up(double s)
{
	if (s > 86400)
		return 86400;
	int n = (int)s;
	return n < s ? n + 1 : n;
}

bool ratelimit_take(struct ratelimit *rl, long long key, uint64_t now_ns, int *retry_after_s)
{
	pthread_mutex_lock(&rl->lock);
	struct bucket *b = find(rl, key ? key : -1, now_ns);
	b->tokens = refilled(rl, b, now_ns);
	b->last_ns = now_ns;
	bool ok = b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	else
		*retry_after_s = seconds_up((1 - b->tokens) / rl->rate);
	pthread_mutex_unlock(&rl->lock);
	if (!ok && *retry_after_s < 1)
		*retry_after_s = 1;
	return ok;
}
