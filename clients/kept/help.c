#include "help.h"

#include <string.h>

static const struct {
	const char *name;
	const char *summary;
	const char *text; /* usage, flags, an example */
} commands[] = {
        {"find", "find a customer by name, phone digits or reference",
         "kept find TEXT [--limit N] [--cursor C]\n"
         "  TEXT        3 to 200 characters: part of a name (case and accents ignored), digits of a\n"
         "              phone number written any way, or a customer's or an account's reference\n"
         "  --limit N   customers per page (1-100, default 20); --cursor C: the next page\n"
         "example: kept find \"ann ex\"   |   kept find 0900123   |   kept find A-1\n"},
        {"account", "the account on one screen: plan, next due date, arrears, payments, calls",
         "kept account ID\n"
         "  the customer and their restrictions, the balance, the active plan with its next due date\n"
         "  (the customer's local date), arrears, the last payments, the recent calls and what\n"
         "  happened on them, the contacts agents logged, open escalations and reviews\n"
         "example: kept account 42\n"},
        {"customers", "debtors: phones with consent, time zone, restrictions",
         "kept customers create --external-ref REF --name NAME --time-zone ZONE --jurisdiction CODE\n"
         "                      [--language TAG] [--phone NUMBER[:consent][:mobile|home|work]]...\n"
         "                      [RESTRICTION yes|no]...\n"
         "kept customers show ID\n"
         "kept customers update ID [--name NAME] [--time-zone ZONE] [--jurisdiction CODE] [--language TAG]\n"
         "                      [--phone NUMBER[:consent][:mobile|home|work]]... [RESTRICTION yes|no]...\n"
         "                      [--moratorium-until DATE|none] [--if-version N]\n"
         "  --phone NUMBER[:consent][:mobile|home|work]  E.164 (+447700900123); :consent = may get\n"
         "                            automated calls; the number's type (Massachusetts counts work numbers "
         "apart)\n"
         "  RESTRICTION               --cease-communication --attorney-represented --bankruptcy\n"
         "                            --dispute-open --vulnerable\n"
         "  --if-version N            refuse the update if someone changed the customer since version N\n"
         "example: kept customers create --external-ref C-1 --name \"Ann Example\" --time-zone Europe/London "
         "\\\n"
         "             --jurisdiction GB --phone +447700900123:consent\n"},
        {"accounts", "debts: balances in the currency's own units",
         "kept accounts create --customer ID --external-ref REF --creditor NAME --currency CODE\n"
         "                     --balance AMOUNT [--current-balance AMOUNT] [--placed-on DATE]\n"
         "kept accounts show ID\n"
         "kept accounts list [--customer ID] [--external-ref REF] [--limit N] [--cursor C] [--all]\n"
         "  --currency CODE   an ISO 4217 code kept knows (USD, EUR, JPY: no decimals, KWD: three)\n"
         "  --balance AMOUNT  in the currency's units: 1250.00 GBP, 150000 JPY\n"
         "  --placed-on DATE  when the creditor placed it with the agency (default today)\n"
         "example: kept accounts create --customer 1 --external-ref A-1 --creditor \"Acme Bank\" \\\n"
         "             --currency GBP --balance 1250.00\n"},
        {"affordability", "income and expenditure (Standard Financial Statement)",
         "kept affordability ACCOUNT [--income CAT=AMOUNT]... [--fixed CAT=AMOUNT]... [--flexible "
         "CAT=AMOUNT]...\n"
         "  monthly amounts by category; answers the weekly disposable income (monthly x 12 / 52)\n"
         "example: kept affordability 1 --income earnings=2100.00 --fixed home_and_contents=950 \\\n"
         "             --flexible food_and_housekeeping=400\n"},
        {"propose", "how much can you afford each week? - kept's evaluation and the schedule",
         "kept propose ACCOUNT --weekly AMOUNT --first-due DATE [--note TEXT]\n"
         "  --weekly AMOUNT    what the customer says they can pay each week\n"
         "  --first-due DATE   the first payment, on the customer's calendar (today to 60 days on)\n"
         "example: kept propose 1 --weekly 25.00 --first-due 2026-12-04\n"},
        {"plan", "weekly commitments; a second associate approves out-of-policy ones",
         "kept plan create ACCOUNT (--proposal ID | --weekly AMOUNT --first-due DATE) [--replaces PLAN]\n"
         "                 [--imported]\n"
         "kept plan show PLAN | list ACCOUNT | approve PLAN [--note TEXT] | cancel PLAN --reason TEXT\n"
         "  --replaces PLAN   to renegotiate: the account's current plan, which the new one replaces\n"
         "  --imported        (admin) a plan agreed before kept: its first due date may be in the past\n"
         "  --note TEXT       why the second associate approves an out-of-policy plan\n"
         "example: kept plan create 1 --proposal 7   |   kept plan approve 12 --note \"new job next "
         "month\"\n"},
        {"reviews", "the supervisors' review queue (an agent sees the reviews of their own plans)",
         "kept reviews [list] [--status open|upheld|corrected|all] [--cursor C]\n"
         "kept reviews show REVIEW\n"
         "kept reviews uphold REVIEW [--note TEXT] | correct REVIEW --note TEXT\n"
         "  shows who made each plan, who approved it and why, who reviewed it and what they said\n"
         "example: kept reviews correct 3 --note \"should have been 9.62\"\n"},
        {"settle", "what do you think would be fair? - a settlement",
         "kept settle ACCOUNT --offer AMOUNT [--note TEXT]\n"
         "kept settle accept OFFER --first-due DATE [--amount AMOUNT] [--installments 1-12] [--replaces "
         "PLAN]\n"
         "example: kept settle 1 --offer 400.00 ; kept settle accept 5 --first-due 2026-12-01 --installments "
         "3\n"},
        {"pay", "record a payment (a retry never posts twice)",
         "kept pay ACCOUNT --amount AMOUNT [--source card] [--ref SOURCE_REF] [--received-at TIME]\n"
         "                 [--idempotency-key KEY] [--again]\n"
         "  every payment is posted with an idempotency key, printed before it is sent; a timeout or a\n"
         "  server error is retried with the same key, and running the command again with\n"
         "  --idempotency-key KEY can never post twice\n"
         "  --again   post even though the same amount from the same source reached this account in\n"
         "            the last ten minutes (without it the command stops and says so)\n"
         "example: kept pay 1 --amount 25.00 --source card --ref TX-991\n"},
        {"payments", "an account's payments",
         "kept payments ACCOUNT [--cursor C]\n"
         "example: kept payments 1\n"},
        {"reverse", "a returned payment: its money comes off the installments it paid",
         "kept reverse PAYMENT --reason TEXT\n"
         "example: kept reverse 31 --reason \"returned by the bank\"\n"},
        {"escalations", "the skilled queue",
         "kept escalations [list] [--status open|resolved|all] [--reason R] [--team T] [--account A]\n"
         "                 [--assigned-to KEY] [--overdue] [--cursor C]\n"
         "kept escalations show ID | open ACCOUNT --reason R [--note TEXT] [--priority 1-5]\n"
         "kept escalations assign ID [--to KEY] | resolve ID --note TEXT\n"
         "example: kept escalations --team collections --overdue ; kept escalations resolve 4 --note "
         "\"called back\"\n"},
        {"calls", "an account's reminder calls: which rule held or blocked each, and when it may go",
         "kept calls ACCOUNT [--cursor C]\n"
         "  each call with its state, the rule that held or blocked it (with its citation) in plain\n"
         "  words, and when it was dialled or may go\n"
         "example: kept calls 42\n"},
        {"contact", "log a contact from any channel (the contact rules count it), or list them",
         "kept contact log ACCOUNT --channel phone|sms|email|letter|in_person|web --direction "
         "inbound|outbound\n"
         "                 --outcome conversation|no_answer|left_message|wrong_party|refused\n"
         "                 [--number E164] [--at TIME] [--note TEXT]\n"
         "kept contact list ACCOUNT [--cursor C]\n"
         "  --number   the number called or calling (an agent's outbound calls count in 7-in-7)\n"
         "  --at       when it happened (default now)\n"
         "example: kept contact log 42 --channel phone --direction outbound --outcome no_answer \\\n"
         "             --number +14155550123\n"},
        {"link", "the customer's personal link to the self-service page: make one (and text it), revoke one",
         "kept link ACCOUNT [--sms [--number E164]] [--days N] [--language en|es]\n"
         "kept link revoke LINK [--reason TEXT]\n"
         "  the link (KEPT_PUBLIC_URL/s/...) is shown once and never again; it expires after --days\n"
         "  (1-30, default 7). --sms texts it to the customer's number (or --number, one of theirs)\n"
         "  if the contact rules allow: consent to texts on that number, no opt-out, the calling\n"
         "  window in every zone kept knows for the customer; the text's state and rule are shown\n"
         "example: kept link 42 --sms ; kept link revoke 7 --reason \"sent to the wrong person\"\n"},
        {"policies", "the policies that decide what is in policy (read)",
         "kept policies\n"
         "  the default policy and each creditor's: max weeks, grace days, kept threshold, misses that\n"
         "  break a plan, settlement floor, reminder lead days\n"
         "example: kept policies\n"},
        {"report", "a finance report as a table, or CSV",
         "kept report NAME [--from DATE] [--to DATE] [--csv]\n"
         "  NAME    summary, weekly-adherence, cohorts, origin, agents, reminders, compliance\n"
         "  --from  default: the Monday twelve weeks ago; --to (not included) default: next Monday\n"
         "  --csv   the report as CSV on stdout, for a spreadsheet\n"
         "example: kept report origin ; kept report weekly-adherence --from 2026-01-05 --csv > weeks.csv\n"},
        {"import", "bulk files (admin)",
         "kept import accounts FILE.csv [--progress]\n"
         "kept import payments FILE.csv [--progress]\n"
         "kept import history FILE.json|FILE.csv [--progress]\n"
         "  accounts: customers and accounts; payments: a processor's daily file; history: plans and\n"
         "  payments from another system, replayed at their own times. All or nothing: every problem\n"
         "  of every line is listed\n"
         "example: kept import payments bacs-2026-11-20.csv\n"},
        {"keys", "API keys of users (admin)",
         "kept keys create --user ID [--role ROLE] [--name LABEL] [--expires TIME]\n"
         "kept keys create --role agent|supervisor|finance|admin --name NAME | list | revoke ID\n"
         "  --user ID     the key belongs to that user; without --role it acts in every role they hold\n"
         "  --expires     RFC 3339 time after which the key authenticates nobody\n"
         "  --role/--name without --user: the key goes to the user named NAME (made when needed)\n"
         "example: kept keys create --user 7 --role agent --expires 2027-01-01T00:00:00Z\n"},
        {"users", "the people who use kept (admin)",
         "kept users list [--team TEAM]\n"
         "kept users create --name NAME --roles ROLE[,ROLE...] [--email EMAIL] [--team TEAM]\n"
         "kept users activate|deactivate ID\n"
         "  ROLE    agent, supervisor, finance, admin; TEAM: whose creditors they see (default: default)\n"
         "example: kept users create --name \"Ann Agent\" --roles agent --email ann@example.com --team "
         "north\n"},
};

void help_overview(FILE *out)
{
	fputs("usage: kept [--json] COMMAND ...   (kept help COMMAND, or COMMAND --help, for its flags)\n",
	      out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("environment: KEPT_URL (default http://127.0.0.1:8080), KEPT_API_KEY (your API key),\n"
	      "  KEPT_TIMEOUT (seconds a request may take, default 120)\n"
	      "--json prints the API's answers (errors too) unchanged, for scripts\n"
	      "exit codes: 0 done; 1 unexpected failure; 2 usage (a flag or an argument is wrong);\n"
	      "  3 not found (no such customer, account, plan, ...); 4 refused (a rule or a value kept\n"
	      "  refuses, a conflict); 5 not allowed (no key, a wrong key, or not your role); 6 kept\n"
	      "  unavailable (no answer, or kept could not do it now: try again)\n",
	      out);
}

bool help_command(const char *command, FILE *out)
{
	for (size_t i = 0; command && i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, command) != 0)
			continue;
		fprintf(out, "kept %s: %s\n\n%s", commands[i].name, commands[i].summary, commands[i].text);
		return true;
	}
	return false;
}
