"""Retention: the outbox pruned once loaded and older than the retention, in
batches, never past the loader's cursor (here in a separate analytics
database); audit partitions made ahead; nothing archived inside the audit
retention."""
from conftest import Keptd, create_key, keptd_cmd, migrate, new_account, new_customer


def test_the_outbox_is_pruned_only_once_loaded_and_old(cluster):
    db = "kept_retention"
    url = cluster.new_database(db)
    analytics_url = cluster.new_database("kept_retention_analytics")
    env = dict(KEPT_ANALYTICS_DATABASE_URL=analytics_url)
    done = keptd_cmd(url, "migrate", **env)
    assert done.returncode == 0, done.stderr
    admin_key, agent_key = create_key(url, "admin"), create_key(url, "agent")
    k = Keptd(url, **env)
    try:
        agent, admin = k.client(agent_key), k.client(admin_key)
        account = new_account(agent, new_customer(agent)["id"])["id"]
        plan = admin.post(f"/v1/accounts/{account}/plans", {"weekly_amount_cents": 5000,
                                                            "first_due_date": "2026-01-05", "imported": True})
        assert plan.status == 201, plan
        plan_id = plan.json()["id"]
    finally:
        k.assert_clean_exit()
    psql = lambda sql: cluster.psql(sql, db=db)
    events = lambda: int(psql("SELECT count(*) FROM kept.outbox_events")[0][0])
    # 2,500 events, loaded; then 700 more the loader has not seen
    psql(f"""INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
             SELECT 'installment_evaluated', 'plan', {plan_id}, '{{}}' FROM generate_series(1, 2500)""")
    loaded = keptd_cmd(url, "analytics", **env)
    assert loaded.returncode == 0, loaded.stderr
    total_loaded = events()
    psql(f"""INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
             SELECT 'installment_evaluated', 'plan', {plan_id}, '{{}}' FROM generate_series(1, 700)""")
    # all of them old, except the first ten loaded ones
    psql("""UPDATE kept.outbox_events SET occurred_at = now() - interval '31 days'
            WHERE id > (SELECT min(id) + 9 FROM kept.outbox_events)""")

    run = keptd_cmd(url, "maintenance", **env)
    assert run.returncode == 0, run.stderr
    # loaded and old: gone, in three batches; loaded but young, or not loaded: kept
    assert f'"outbox_pruned":{total_loaded - 10}' in run.stdout, run.stdout
    assert events() == 10 + 700
    assert psql("SELECT count(*) FROM kept.outbox_events WHERE occurred_at > now() - interval '1 day'") == [["10"]]
    # the loader carries on from its cursor: the 700 are loaded, then they may go too
    loaded = keptd_cmd(url, "analytics", **env)
    assert loaded.returncode == 0 and '"events":700' in loaded.stdout, loaded.stdout
    run = keptd_cmd(url, "maintenance", KEPT_OUTBOX_RETENTION_DAYS="30", **env)
    assert '"outbox_pruned":700' in run.stdout, run.stdout
    assert events() == 10
    lag = keptd_cmd(url, "analytics", **env)
    assert '"lag_events":0' in lag.stdout, lag.stdout


def test_audit_partitions_are_made_ahead_and_kept_for_the_retention(cluster):
    parts = cluster.psql("SELECT count(*) FROM kept.audit_partitions WHERE range_from > now()")
    assert int(parts[0][0]) >= 3
    run = keptd_cmd(cluster.url, "maintenance")
    assert run.returncode == 0 and '"audit_partitions_made":0' in run.stdout, run.stdout
    # everything is younger than three years: nothing leaves the live log
    archive = keptd_cmd(cluster.url, "audit-archive")
    assert archive.returncode == 0 and archive.stdout == "nothing to archive\n", archive
    assert cluster.psql("SELECT count(*) FROM kept.audit_archives") == [["0"]]
