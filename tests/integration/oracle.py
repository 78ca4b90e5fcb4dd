"""What finance's reports must show, computed here in Python from the
operational tables (schema kept), independently of schema analytics and of
the SQL in sql/reports/. Each function answers the report's rows as dicts
keyed like the report's, for a range [frm, to) of dates, with the semantics
each report states at the top of its file: waived installments are not due,
rates are over judged installments and come with their counts, money is per
currency, plans are those that became a commitment."""
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

JUDGED = ("kept", "kept_late", "partial", "missed")


def rate(num, den):
    """num / den as the reports round it (4 places, half up); None without a denominator."""
    if not den:
        return None
    return float((Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def monday(d):
    return d - datetime.timedelta(days=d.weekday())


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


def week_state(week, today):
    return "past" if week + datetime.timedelta(days=7) <= today else "current" if week <= today else "future"


class Truth:
    """The operational rows the reports are about, read once: all of them, or
    (creditors=[...]) those of some creditors only, as a finance user of the
    team that owns them sees them."""

    def __init__(self, cluster, db="kept", creditors=None):
        d = datetime.date.fromisoformat
        mine = lambda creditor: creditors is None or creditor in creditors
        self.plans = {}
        for r in cluster.psql("""
                SELECT p.id, p.origin, p.channel, p.currency, coalesce(p.created_by_user, 0), p.status,
                       p.activated_at IS NOT NULL,
                       p.weekly_amount_cents, p.balance_at_start_cents, p.first_due_date,
                       (p.ended_at AT TIME ZONE 'UTC')::date, coalesce(u.name, ''), a.creditor
                FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id
                LEFT JOIN kept.users u ON u.id = p.created_by_user""", db=db):
            self.plans[int(r[0])] = dict(id=int(r[0]), origin=r[1], channel=r[2], currency=r[3], agent=int(r[4]),
                                         status=r[5], activated=r[6] == "t", weekly=int(r[7]), balance=int(r[8]),
                                         first=d(r[9]), ended=d(r[10]) if r[10] else None, agent_name=r[11],
                                         creditor=r[12])
        self.installments = []
        for r in cluster.psql("""
                SELECT i.plan_id, i.seq, i.due_date, i.amount_due_cents, i.amount_paid_cents, i.outcome,
                       coalesce((SELECT string_agg(DISTINCT c.purpose, '+' ORDER BY c.purpose) FROM kept.calls c
                                 WHERE c.plan_id = i.plan_id AND c.seq = i.seq AND c.provider_sid IS NOT NULL), '')
                FROM kept.installments i""", db=db):
            p = self.plans[int(r[0])]
            self.installments.append(dict(plan=p, seq=int(r[1]), due=d(r[2]), amount_due=int(r[3]), paid=int(r[4]),
                                          outcome=r[5], purposes=r[6]))
        self.calls = [r[:5] for r in cluster.psql("""
            SELECT (coalesce(c.dialed_at, c.updated_at) AT TIME ZONE cu.time_zone)::date, c.provider_sid IS NOT NULL,
                   c.state, coalesce(c.blocked_rule, ''), coalesce(c.deferred_rule, ''), a.creditor
            FROM kept.calls c JOIN kept.customers cu ON cu.id = c.customer_id
            JOIN kept.accounts a ON a.id = c.account_id""", db=db) if mine(r[5])]
        self.plans = {k: p for k, p in self.plans.items() if mine(p["creditor"])}
        self.installments = [i for i in self.installments if mine(i["plan"]["creditor"])]

    # ---- the reports -------------------------------------------------------------------

    def weekly_adherence(self, frm, to, today=None):
        today = today or today_utc()
        rows = defaultdict(lambda: defaultdict(int))
        for i in self.installments:
            week = monday(i["due"])
            if not frm <= week < to:
                continue
            e = rows[(week.isoformat(), i["plan"]["currency"])]
            e["week_state"] = week_state(week, today)
            if i["outcome"] == "waived":
                e["waived"] += 1
                continue
            e["installments_due"] += 1
            e["amount_due_cents"] += i["amount_due"]
            e["amount_collected_cents"] += i["paid"]
            if i["outcome"] == "scheduled":
                e["scheduled"] += 1
            else:
                e["judged"] += 1
                e[i["outcome"]] += 1
                e["amount_due_judged_cents"] += i["amount_due"]
                e["amount_collected_judged_cents"] += i["paid"]
        fields = ("week_state", "installments_due", "waived", "scheduled", "judged", "kept", "kept_late", "partial",
                  "missed", "amount_due_cents", "amount_collected_cents", "amount_due_judged_cents",
                  "amount_collected_judged_cents")
        return {k: dict({f: e[f] for f in fields}, kept_rate=rate(e["kept"] + e["kept_late"], e["judged"]),
                        collection_rate=rate(e["amount_collected_judged_cents"], e["amount_due_judged_cents"]))
                for k, e in rows.items()}

    def _plan_groups(self, frm, to, key):
        groups = defaultdict(lambda: defaultdict(Decimal))
        for p in self.plans.values():
            if not frm <= monday(p["first"]) < to or not p["activated"]:
                continue
            g = groups[(key(p), p["currency"])]
            g["plans"] += 1
            g[p["status"]] += 1
            g["share"] += (Decimal(p["weekly"]) / Decimal(p["balance"])).quantize(Decimal("0.000001"),
                                                                                  rounding=ROUND_HALF_UP)
        for i in self.installments:
            p = i["plan"]
            if (key(p), p["currency"]) not in groups or not frm <= monday(p["first"]) < to or i["outcome"] not in JUDGED:
                continue
            g = groups[(key(p), p["currency"])]
            g["judged"] += 1
            g["kept_any"] += i["outcome"] in ("kept", "kept_late")
            g["due_judged_cents"] += i["amount_due"]
            g["collected_judged_cents"] += i["paid"]
        out = {}
        for k, g in groups.items():
            n = int(g["plans"])
            out[k] = {"plans": n, "completed": int(g["completed"]), "broken": int(g["broken"]),
                      "active": int(g["active"]), "judged": int(g["judged"]), "kept_any": int(g["kept_any"]),
                      "kept_rate": rate(g["kept_any"], g["judged"]), "due_judged_cents": int(g["due_judged_cents"]),
                      "collected_judged_cents": int(g["collected_judged_cents"]),
                      "collection_rate": rate(g["collected_judged_cents"], g["due_judged_cents"]),
                      "completion_rate": rate(g["completed"], n), "broken_rate": rate(g["broken"], n),
                      "avg_weekly_share": rate(g["share"], n)}
        return out

    def origin(self, frm, to):
        by = self._plan_groups(frm, to, lambda p: (p["origin"], p["channel"]))
        return {(origin, channel, currency): v for ((origin, channel), currency), v in by.items()}

    def agents(self, frm, to):
        return self._plan_groups(frm, to, lambda p: p["agent"])

    def cohorts(self, frm, to):
        sizes = defaultdict(int)
        for p in self.plans.values():
            if p["activated"]:
                sizes[monday(p["first"])] += 1
        rows = defaultdict(lambda: [set(), 0, 0])
        for i in self.installments:
            start = monday(i["plan"]["first"])
            if i["outcome"] not in JUDGED or not frm <= start < to:
                continue
            e = rows[(start.isoformat(), (i["due"] - i["plan"]["first"]).days // 7 + 1)]
            e[0].add(i["plan"]["id"])
            e[1] += 1
            e[2] += i["outcome"] in ("kept", "kept_late")
        return {k: {"cohort_size": sizes[datetime.date.fromisoformat(k[0])], "plans": len(v[0]), "judged": v[1],
                    "kept": v[2], "kept_share": rate(v[2], v[1])} for k, v in rows.items()}

    def reminders(self, frm, to):
        rows = defaultdict(lambda: defaultdict(int))
        for i in self.installments:
            if i["outcome"] in JUDGED and frm <= i["due"] < to:
                e = rows[i["purposes"] or "none"]
                e["judged"] += 1
                e[i["outcome"]] += 1
        return {k: dict({f: e[f] for f in ("judged",) + JUDGED}, kept_rate=rate(e["kept"] + e["kept_late"], e["judged"]))
                for k, e in rows.items()}

    def compliance(self, frm, to):
        rows = defaultdict(int)
        for day, placed, state, blocked, deferred in self.calls:
            week = monday(datetime.date.fromisoformat(day))
            if not frm <= week < to:
                continue
            status = ("placed" if placed == "t" else "blocked" if state == "blocked"
                      else "deferred" if state == "queued" else "failed")
            rule = blocked if status == "blocked" else deferred if status == "deferred" else ""
            rows[(week.isoformat(), status, rule)] += 1
        return rows

    def summary(self, frm, to, today=None):
        today = today or today_utc()
        week = monday(min(to - datetime.timedelta(days=1), today))
        four = week - datetime.timedelta(days=28)
        rows = defaultdict(lambda: defaultdict(int))
        seen = set()
        for i in self.installments:
            cur, due_week = i["plan"]["currency"], monday(i["due"])
            if four <= due_week <= week:
                seen.add(cur)
            if i["outcome"] in JUDGED:
                e = rows[cur]
                kept = i["outcome"] in ("kept", "kept_late")
                if due_week == week:
                    e["judged_week"] += 1
                    e["kept_week"] += kept
                elif four <= due_week < week:
                    e["judged_4w"] += 1
                    e["kept_4w"] += kept
                    e["due_judged_4w_cents"] += i["amount_due"]
                    e["collected_judged_4w_cents"] += i["paid"]
                if i["plan"]["status"] == "active":
                    e["arrears_cents"] += max(i["amount_due"] - i["paid"], 0)
                    e["installments_in_arrears"] += i["paid"] < i["amount_due"]
        for p in self.plans.values():
            e = rows[p["currency"]]
            if p["status"] == "active":
                e["active_plans"] += 1
            if p["status"] in ("broken", "completed") and p["ended"] and frm <= p["ended"] < to:
                e[p["status"] + "_plans"] += 1
                seen.add(p["currency"])
        out = {}
        for cur, e in rows.items():
            if cur not in seen and not e["active_plans"] and not e["arrears_cents"]:
                continue
            out[cur] = {k: e[k] for k in ("judged_week", "kept_week", "judged_4w", "kept_4w", "due_judged_4w_cents",
                                          "collected_judged_4w_cents", "active_plans", "broken_plans",
                                          "completed_plans", "arrears_cents", "installments_in_arrears")}
            out[cur].update(week=week.isoformat(), week_state=week_state(week, today),
                            kept_rate_week=rate(e["kept_week"], e["judged_week"]),
                            kept_rate_4w=rate(e["kept_4w"], e["judged_4w"]),
                            collection_rate_4w=rate(e["collected_judged_4w_cents"], e["due_judged_4w_cents"]))
        return out


# ---- comparing a report's rows with the truth -------------------------------------------------

REPORT_KEYS = {
    "weekly-adherence": ("week", "currency"),
    "origin": ("origin", "channel", "currency"),
    "agents": ("agent_user_id", "currency"),
    "cohorts": ("cohort_week", "week"),
    "reminders": ("reminder",),
    "compliance": ("week", "status", "rule"),
    "summary": ("currency",),
}


def expected(truth, name, frm, to):
    frm, to = datetime.date.fromisoformat(frm), datetime.date.fromisoformat(to)
    return {"weekly-adherence": truth.weekly_adherence, "origin": truth.origin, "agents": truth.agents,
            "cohorts": truth.cohorts, "reminders": truth.reminders, "compliance": truth.compliance,
            "summary": truth.summary}[name](frm, to)


def differences(name, rows, want):
    """What differs between a report's rows and the truth's, as readable lines (empty when equal)."""
    key_fields = REPORT_KEYS[name]
    got = {tuple(r[k] for k in key_fields): r for r in rows}
    want = {k if isinstance(k, tuple) else (k,): v for k, v in want.items()}
    out = [f"{name}: {k} missing from the report" for k in want if k not in got]
    out += [f"{name}: {k} in the report but not in the operational tables" for k in got if k not in want]
    for k in set(got) & set(want):
        w = want[k]
        if not isinstance(w, dict):
            w = {"calls": w}
        for field, value in w.items():
            if got[k].get(field) != value:
                out.append(f"{name} {k} {field}: report {got[k].get(field)!r}, operational {value!r}")
    return out
