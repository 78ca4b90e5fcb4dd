/*
 * POST /v1/accounts/{id}/self-service-links — an agent makes a personal link
 * to the customer's self-service page (shown once, optionally texted). The
 * rules are in SQL (86_self_service.sql, 83_texts.sql); here: the token
 * (link/), the text's words (sms/), sealing the text that carries the link.
 * Listing and revoking links and the texts kept sent (/v1/messages) are plain
 * rows of routes.c.
 */
#include <string.h>

#include "internal.h"
#include "lang/lang.h"
#include "link/link.h"
#include "sms/sms.h"
#include "texts/texts.h"

/* KEPT_ERR_RULE self_service_off unless the page is on. */
static kept_err api_self_service_require(struct kept_error *err)
{
	if (api_cfg->link_keys)
		return KEPT_OK;
	return kept_fail(err, KEPT_ERR_RULE, "self_service_off", "",
	                 "the self-service page is off in this keptd (KEPT_SELF_SERVICE=on turns it on)");
}

struct new_link {
	struct api_ctx *ctx;
	int64_t account_id;
	const char *body;
	const char *token;
	const char *token_hash;
	const char *link;    /* the link's JSON, as SQL answered it */
	const char *message; /* the text's, or NULL */
};

/* The link's text: its words with the URL, sealed; queued in the link's transaction. */
static kept_err queue_link_text(struct db_conn *db, struct new_link *nl, const cJSON *link,
                                struct kept_error *err)
{
	struct api_ctx *ctx = nl->ctx;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(link, "text");
	enum lang l = LANG_EN;
	lang_of_tag(json_get_string(t, "language"), &l);
	const char *url = arena_sprintf(ctx->arena, "%s/s/%s", api_cfg->public_url, nl->token);
	struct buf words, shown;
	buf_init(&words, 8192);
	buf_init(&shown, 8192);
	kept_err r = url ? sms_link_text(&words, l, api_cfg->business_name, json_get_string(t, "first_name"),
	                                 url, json_get_string(t, "expires_on"))
	                 : KEPT_ERR_NOMEM;
	if (!r) /* what staff see: the link named, not given */
		r = sms_link_text(&shown, l, api_cfg->business_name, json_get_string(t, "first_name"),
		                  arena_sprintf(ctx->arena, "%s/s/…", api_cfg->public_url),
		                  json_get_string(t, "expires_on"));
	const char *sealed = r ? NULL : link_seal(api_cfg->link_keys, ctx->arena, buf_str(&words));
	const char *shown_text = r ? NULL : arena_strdup(ctx->arena, buf_str(&shown));
	buf_free(&words);
	buf_free(&shown);
	if (!sealed || !shown_text)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	long long link_id = 0, customer_id = 0;
	json_get_int(link, "id", &link_id);
	json_get_int(link, "customer_id", &customer_id);
	return q_message_queue_value(db, ctx->arena, API_ACTOR(ctx), customer_id, nl->account_id, link_id,
	                             "link", json_get_string(t, "number"), lang_code(l), shown_text, sealed,
	                             json_get_string(t, "useful_until"), &nl->message, err);
}

static kept_err create_link(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct new_link *nl = arg;
	nl->message = NULL;
	kept_err r = q_self_service_link_create_value(db, nl->ctx->arena, API_ACTOR(nl->ctx), nl->account_id,
	                                              nl->token_hash, nl->body, &nl->link, err);
	if (r)
		return r;
	cJSON *link = cJSON_Parse(nl->link);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(link, "text");
	if (!link)
		r = kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "the link answered no JSON");
	else if (cJSON_IsObject(t))
		r = queue_link_text(db, nl, link, err);
	cJSON_Delete(link);
	return r;
}

/* The answer: the link, its URL (shown only now) and its text. */
static const char *link_answer(struct new_link *nl)
{
	cJSON *doc = json_object_in(nl->ctx->arena);
	cJSON *link = cJSON_Parse(nl->link);
	cJSON *message = nl->message ? cJSON_Parse(nl->message) : cJSON_CreateNull();
	if (!doc || !link || !message) {
		cJSON_Delete(link);
		cJSON_Delete(message);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(link, "text");
	cJSON *child = link->child;
	link->child = NULL; /* move the members over */
	doc->child = child;
	cJSON_Delete(link);
	cJSON_AddStringToObject(doc, "url",
	                        arena_sprintf(nl->ctx->arena, "%s/s/%s", api_cfg->public_url, nl->token));
	cJSON_AddItemToObject(doc, "message", message);
	return json_print(nl->ctx->arena, doc);
}

kept_err api_self_service_links_create(struct api_ctx *ctx, struct kept_error *err)
{
	struct new_link nl = {ctx, 0, NULL, NULL, NULL, NULL, NULL};
	cJSON *body;
	char token[LINK_TOKEN_LEN + 1], hash[LINK_HASH_HEX_LEN + 1];
	kept_err r = api_path_id(ctx, "id", "account_not_found", &nl.account_id, err);
	if (!r)
		r = api_json_body(ctx, ctx->route->spec, &body, &nl.body, err);
	if (!r)
		r = api_self_service_require(err);
	if (r)
		return r;
	const char *send = json_get_string(body, "send");
	if (send && strcmp(send, "sms") == 0 && !texts_can_send())
		return kept_fail(err, KEPT_ERR_RULE, "texts_not_configured", "send",
		                 "no provider to send texts through is configured (KEPT_TELEPHONY_BASE_URL)");
	if (link_token_new(api_cfg->link_keys, token, hash))
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "",
		                 "no random token could be made");
	nl.token = token;
	nl.token_hash = hash;
	r = db_transaction(ctx->db, create_link, &nl, err);
	if (r)
		return r;
	const char *answer = link_answer(&nl);
	if (!answer)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	if (nl.message)
		texts_wake();
	api_reply_created(ctx, "/v1/self-service-links", answer);
	return KEPT_OK;
}
