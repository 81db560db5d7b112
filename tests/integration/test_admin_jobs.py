"""The admin portal's jobs screen, over HTTPS through nginx against the
real stack (TEST_HOOKS=1: the test.* job types, src/jobs/system_jobs.c): the
queues' figures, a dead job with its error (never its payload), re-driven
(its attempts start again) and deleted (the password again), each with an
audit row (entity "job")."""
import uuid

import pytest

from conftest import wait_until
from shoppers import CSRF_RX, Shopper, Staff, admin_path
from test_admin_orders import age_password_proof, audit_rows
from test_jobs import dead_with_key, enqueue, runs_of
from test_orders import text_of


@pytest.fixture(scope="module")
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff", name="Night Shift")


def test_dead_jobs_are_shown_redriven_and_deleted_with_audit_rows(staff, shoease_cli, stack):
    key = "admin-fail-%s" % uuid.uuid4().hex
    secret = "payload-secret-%s" % uuid.uuid4().hex
    enqueue(shoease_cli, "test.fail", key, {"token": secret})
    assert wait_until(lambda: dead_with_key(shoease_cli, key), 30), "test.fail never reached the dead letters"
    job_id = dead_with_key(shoease_cli, key)[0]["id"]

    r = staff.admin_get("/jobs")
    assert r.status_code == 200
    t = text_of(r.text)
    assert key in t and job_id in t and "test.fail" in t and "always fails" in t
    assert "default" in t and "Waiting to retry" in t and "In flight" in t
    assert secret not in r.text, "a dead job's payload is never shown"
    assert key in staff.admin_get("/jobs?queue=default").text
    assert key not in staff.admin_get("/jobs?queue=mail").text

    # CSRF first
    assert staff.post(staff.admin + "/jobs/dead/%s/redrive" % job_id, {}, token="f" * 43).status_code == 403
    assert dead_with_key(shoease_cli, key)

    # re-drive: back on its queue, attempts from 1, and (always failing) dead again
    r = staff.admin_post("/jobs/dead/%s/redrive" % job_id, {}, form_path="/jobs")
    assert r.status_code == 303
    assert "back on its queue" in text_of(staff.admin_get("/jobs").text)
    assert wait_until(lambda: len(runs_of(stack, key)) >= 6 and dead_with_key(shoease_cli, key), 30)
    assert [l["attempt"] for l in runs_of(stack, key)][3:] == [1, 2, 3]
    ((action, actor, before, after),) = audit_rows(stack, job_id, "job.redrive")
    assert actor == staff.email
    assert before["type"] == "test.fail" and before["key"] == key and before["attempts"] == 3
    assert "always fails" in before["error"] and after["attempts"] == 0
    assert secret not in stack.mariadb("SELECT CONCAT(before_json, after_json) FROM audit_log WHERE entity = 'job' "
                                       "AND entity_id = '%s'" % job_id)

    # delete: the password again, then gone for good (a job keeps its id across runs)
    assert dead_with_key(shoease_cli, key)[0]["id"] == job_id
    age_password_proof(stack, staff)
    r = staff.admin_post("/jobs/dead/%s/delete" % job_id, {}, form_path="/jobs")
    assert r.status_code == 403 and "Confirm it is you" in r.text
    assert dead_with_key(shoease_cli, key)
    token = CSRF_RX.search(r.text).group(1)
    r = staff.post(staff.admin + "/jobs/dead/%s/delete" % job_id, {"confirm_password": staff.password}, token=token)
    assert r.status_code == 303
    assert not dead_with_key(shoease_cli, key)
    ((action, actor, before, after),) = audit_rows(stack, job_id, "job.delete")
    assert before["key"] == key and after is None
    # a job that is not (or no longer) dead
    r = staff.admin_post("/jobs/dead/%s/redrive" % job_id, {}, form_path="/jobs")
    assert r.status_code == 404 and "no dead job" in text_of(r.text)
    assert len(audit_rows(stack, job_id, "job.redrive")) == 1


def test_jobs_screen_is_hidden_from_shoppers(https_url, tls_cert, mailbox, stack):
    s = Shopper(https_url, tls_cert).register(mailbox, name="Job Hunter")
    admin = admin_path(stack)
    for who in (s, Shopper(https_url, tls_cert)):
        for method, suffix in (("GET", "/jobs"), ("POST", "/jobs/dead/0123456789abcdef0123456789abcdef/redrive"),
                               ("POST", "/jobs/dead/0123456789abcdef0123456789abcdef/delete")):
            r = who.s.request(method, https_url + admin + suffix, allow_redirects=False, timeout=20,
                              headers={"Origin": who.origin})
            assert r.status_code == 404, (method, suffix, r.status_code)
