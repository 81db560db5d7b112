/* audit.c — see audit.h. */
#include "shop/audit.h"

#include "core/log.h"
#include "core/text.h"
#include "db/tx.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

audit_actor audit_cli_actor(void)
{
    audit_actor a = {0};
    const struct passwd *pw = getpwuid(getuid());
    snprintf(a.label, sizeof a.label, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
    return a;
}

int audit_actor_label(db_tx *tx, const audit_actor *who, char *out, size_t outlen)
{
    if (who->user_id > 0)
        /* the e-mail as it is now: a later change of address does not rewrite who did this */
        return audit_repo_actor_email(db_tx_conn(tx), who->user_id, out, outlen) == 1 ? 0 : -1;
    text_copy(out, outlen, who->label[0] ? who->label : "cli:unknown");
    return 0;
}

int audit_record(db_tx *tx, const audit_actor *who, const char *action, const char *entity, const char *entity_id,
                 json_t *before, json_t *after)
{
    db_conn *c = db_tx_conn(tx);
    audit_entry e = {0};
    e.actor_id = who->user_id;
    if (audit_actor_label(tx, who, e.actor, sizeof e.actor) < 0) return -1;
    text_copy(e.ip, sizeof e.ip, who->ip);
    text_copy(e.action, sizeof e.action, action);
    text_copy(e.entity, sizeof e.entity, entity);
    text_copy(e.entity_id, sizeof e.entity_id, entity_id ? entity_id : "");
    e.before_json = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    e.after_json = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = ((before && !e.before_json) || (after && !e.after_json)) ? -1 : audit_repo_insert(c, &e);
    free(e.before_json);
    free(e.after_json);
    if (rc < 0) log_error("audit: could not record %s on %s %s", action, entity, entity_id ? entity_id : "");
    return rc;
}

shop_status audit_search(const audit_filter *f, int offset, int max, audit_entry *out, int *n, int64_t *total,
                         shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? audit_repo_search(c, f, offset, max, out, total) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, "The audit log is unavailable for a moment.");
    *n = r;
    return SHOP_OK;
}
