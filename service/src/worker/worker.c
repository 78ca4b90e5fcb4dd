#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log/log.h"

struct worker {
	struct worker_job job;
	const struct db_settings *settings;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	bool woken;                /* worker_wake() since the last nap began */
	atomic_bool asked_to_stop; /* what worker_stopping() reads, without the lock */
};

/* The worker running on this thread, if any. */
static _Thread_local struct worker *current;

bool worker_stopping(void)
{
	return current && atomic_load(&current->asked_to_stop);
}

/* Sleeps up to `ms`, or less when stopping; true when the worker must stop. */
static bool nap(struct worker *w, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	int rc = 0;
	while (!w->stopping && !w->woken && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->wake, &w->lock, &until);
	w->woken = false;
	bool stop = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void run_once(struct worker *w, struct db_conn **db)
{
	struct kept_error err;
	kept_error_clear(&err);
	if (!db_is_up(*db)) {
		db_close(*db);
		*db = NULL;
		if (db_connect(w->settings, db, &err)) {
			log_msg(LOG_WARN, "worker_db_down", "%s: %s", w->job.name, err.message);
			return;
		}
	}
	struct arena *arena = arena_new(0);
	kept_err r = arena ? w->job.run(*db, arena, &err) : KEPT_ERR_NOMEM;
	if (r) {
		struct log_line l;
		log_begin(&l, LOG_WARN, "worker_failed");
		log_str(&l, "worker", w->job.name);
		log_str(&l, "kind", kept_err_name(r));
		log_str(&l, "msg", err.message);
		log_end(&l);
	}
	arena_free(arena);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct db_conn *db = NULL;
	current = w;
	log_msg(LOG_INFO, "worker_started", "%s every %d ms", w->job.name, w->job.interval_ms);
	do {
		run_once(w, &db);
	} while (!nap(w, w->job.interval_ms));
	db_close(db);
	log_msg(LOG_INFO, "worker_stopped", "%s", w->job.name);
	return NULL;
}

kept_err worker_start(const struct worker_job *job, const struct db_settings *settings, struct worker **out,
                      struct kept_error *err)
{
	struct worker *w = calloc(1, sizeof *w);
	*out = NULL;
	if (!w)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	w->job = *job;
	w->settings = settings;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "cannot start worker %s",
		                 job->name);
	}
	*out = w;
	return KEPT_OK;
}

void worker_wake(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->woken = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void worker_stop(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	atomic_store(&w->asked_to_stop, true);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
