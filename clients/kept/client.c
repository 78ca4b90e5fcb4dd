#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf/buf.h"

#define CLIENT_MAX_RESPONSE (64u << 20)

struct sink {
	struct buf body;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	return buf_add(&s->body, data, size * n) ? 0 : size * n;
}

struct progress {
	bool show;
	int last_percent;
};

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct progress *p = arg;
	(void)dltotal;
	(void)dlnow;
	if (!p->show || ultotal <= 0)
		return 0;
	int percent = (int)(ulnow * 100 / ultotal);
	if (percent != p->last_percent) {
		p->last_percent = percent;
		fprintf(stderr, "\ruploading: %3d%% (%.1f of %.1f MB)", percent, (double)ulnow / 1e6,
		        (double)ultotal / 1e6);
		if (percent == 100)
			fputs(" - waiting for kept to check and load it\n", stderr);
	}
	return 0;
}

static struct curl_slist *headers_for(const struct client *c, const char *content_type,
                                      const struct client_call *call)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	char line[512];
	if (c->api_key) {
		snprintf(line, sizeof line, "Authorization: Bearer %s", c->api_key);
		h = curl_slist_append(h, line);
	}
	if (content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", content_type);
		h = curl_slist_append(h, line);
	}
	if (call && call->if_match) {
		snprintf(line, sizeof line, "If-Match: %s", call->if_match);
		h = curl_slist_append(h, line);
	}
	if (call && call->idempotency_key) {
		snprintf(line, sizeof line, "Idempotency-Key: %s", call->idempotency_key);
		h = curl_slist_append(h, line);
	}
	return h;
}

/* Runs a prepared handle and fills `out`. */
static bool perform(CURL *curl, struct curl_slist *headers, struct client_response *out)
{
	struct sink sink;
	buf_init(&sink.body, CLIENT_MAX_RESPONSE);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(curl);
	out->status = 0;
	out->error[0] = '\0';
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	else
		snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
	out->length = buf_len(&sink.body);
	out->body = buf_take(&sink.body);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK && out->body != NULL;
}

static CURL *handle_for(const struct client *c, const char *method, const char *path)
{
	CURL *curl = curl_easy_init();
	if (!curl)
		return NULL;
	size_t n = strlen(c->base_url) + strlen(path) + 1;
	char *url = malloc(n);
	if (!url) {
		curl_easy_cleanup(curl);
		return NULL;
	}
	snprintf(url, n, "%s%s", c->base_url, path);
	curl_easy_setopt(curl, CURLOPT_URL, url); /* curl copies the URL */
	free(url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	return curl;
}

bool client_request(const struct client *c, const struct client_call *call, struct client_response *out)
{
	CURL *curl = handle_for(c, call->method, call->path);
	if (!curl) {
		snprintf(out->error, sizeof out->error, "out of memory");
		out->status = 0;
		out->body = NULL;
		return false;
	}
	if (call->body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(call->body));
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 120L);
	return perform(curl, headers_for(c, call->body ? call->content_type : NULL, call), out);
}

bool client_upload(const struct client *c, const char *path, const char *content_type, const char *file_path,
                   bool progress, struct client_response *out)
{
	out->body = NULL;
	out->status = 0;
	FILE *f = fopen(file_path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0) {
		snprintf(out->error, sizeof out->error, "cannot read %s", file_path);
		if (f)
			fclose(f);
		return false;
	}
	CURL *curl = handle_for(c, "POST", path);
	if (!curl) {
		fclose(f);
		snprintf(out->error, sizeof out->error, "out of memory");
		return false;
	}
	struct progress p = {progress, -1};
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_READDATA, f);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &p);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	bool ok = perform(curl, headers_for(c, content_type, NULL), out);
	fclose(f);
	return ok;
}

void client_response_free(struct client_response *r)
{
	free(r->body);
	r->body = NULL;
}

char *client_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;
	curl_free(e);
	return copy;
}
