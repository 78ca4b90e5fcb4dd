/*
 * sign — kept's webhook signature as a filter, for the differential test
 * against python3-twilio (tests/integration/test_signatures.py).
 *
 * Each input line is a JSON object {"token": "...", "url": "...",
 * "params": [["name", "value"], ...], "signature": "..."}; each output line
 * is "<provider_sign()> <provider_signature_valid() of the given signature: 1|0>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "provider/provider.h"

int main(void)
{
	static char line[1 << 20];
	while (fgets(line, sizeof line, stdin)) {
		cJSON *doc = cJSON_Parse(line);
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "params");
		int n = cJSON_GetArraySize(params);
		struct form_field *fields = calloc((size_t)(n ? n : 1), sizeof *fields);
		for (int i = 0; i < n && fields; i++) {
			const cJSON *pair = cJSON_GetArrayItem(params, i);
			fields[i].name = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
			fields[i].value = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));
		}
		struct form f = {fields, (size_t)n};
		const char *token = json_get_string(doc, "token");
		const char *url = json_get_string(doc, "url");
		char sig[PROVIDER_SIGNATURE_LEN + 1] = "";
		if (!doc || !fields || !token || !url || provider_sign(token, url, &f, sig))
			return 1;
		bool valid = provider_signature_valid(token, url, &f, json_get_string(doc, "signature"));
		printf("%s %d\n", sig, valid ? 1 : 0);
		free(fields);
		cJSON_Delete(doc);
	}
	return 0;
}
