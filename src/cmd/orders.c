/* orders.c — `shoease orders`: the store owner moves orders through their
 * states from the command line (the admin portal does the same: Orders).
 *
 *   shoease orders [list] [--status S] [--limit N] [--json]
 *   shoease orders show NUMBER [--json]
 *   shoease orders ship|deliver|cancel|refund NUMBER [NOTE]
 * Every move goes through orders_transition_audited (the allowed moves, the
 * history, the mails, stock back on cancel/refund before shipping, and an
 * audit row naming "cli:<login>" in the move's unit of work). */
#include "cmd/cmd.h"

#include "core/text.h"
#include "db/order_repo.h"
#include "shop/money.h"
#include "shop/orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
    fprintf(stderr, "usage: shoease orders [list] [--status S] [--limit N] [--json]\n"
                    "       shoease orders show NUMBER [--json]\n"
                    "       shoease orders ship|deliver|cancel|refund NUMBER [NOTE]\n");
    return 2;
}

static const char *fmt_money(int64_t minor, const char *currency, char *out)
{
    money_format(money_make(minor, currency), out, MONEY_FORMAT_MAX);
    return out;
}

static int list(const char *status, int limit, bool as_json)
{
    db_conn *c = db_conn_get();
    order_row *rows = calloc((size_t)limit, sizeof *rows);
    int n = c && rows ? order_repo_recent(c, status, rows, limit) : -1;
    if (n < 0) {
        fprintf(stderr, "shoease orders: MariaDB: %s\n", db_last_error());
        free(rows);
        return 1;
    }
    json_t *out = json_array();
    for (int i = 0; i < n; i++) {
        char total[MONEY_FORMAT_MAX], when[32];
        time_t t = (time_t)rows[i].created_at;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        if (as_json)
            json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "number", rows[i].number, "status",
                                                 rows[i].status, "payment", rows[i].payment_method, "total",
                                                 (json_int_t)rows[i].total, "currency", rows[i].currency, "created",
                                                 when));
        else
            printf("%s  %-16s %-5s %12s  %s  %s\n", rows[i].number, rows[i].status, rows[i].payment_method,
                   fmt_money(rows[i].total, rows[i].currency, total), when, rows[i].email);
    }
    if (as_json) {
        char *s = json_dumps(out, JSON_COMPACT);
        puts(s);
        free(s);
    } else if (n == 0) {
        printf("no orders%s%s\n", status ? " with status " : "", status ? status : "");
    }
    json_decref(out);
    free(rows);
    return 0;
}

static int show(const char *number, bool as_json)
{
    order_view *v = malloc(sizeof *v);
    shop_error e;
    order_viewer staff = {.staff = true};
    if (!v || orders_view(number, &staff, v, &e) != SHOP_OK) {
        fprintf(stderr, "shoease orders: %s\n", v ? e.message : "out of memory");
        free(v);
        return 1;
    }
    const order_row *o = &v->order;
    char a[MONEY_FORMAT_MAX], b[MONEY_FORMAT_MAX], t[MONEY_FORMAT_MAX], x[MONEY_FORMAT_MAX];
    if (as_json) {
        json_t *lines = json_array(), *events = json_array();
        for (int i = 0; i < v->nlines; i++)
            json_array_append_new(lines, json_pack("{s:s,s:s,s:s,s:i,s:I,s:I}", "sku", v->lines[i].sku, "name",
                                                   v->lines[i].product_name, "size", v->lines[i].size_label, "quantity",
                                                   v->lines[i].quantity, "unit_price", (json_int_t)v->lines[i].unit_price,
                                                   "line_total", (json_int_t)v->lines[i].line_total));
        for (int i = 0; i < v->nevents; i++)
            json_array_append_new(events, json_pack("{s:s,s:s,s:s,s:s,s:I}", "from", v->events[i].from, "to",
                                                    v->events[i].to, "actor", v->events[i].actor, "note",
                                                    v->events[i].note, "at", (json_int_t)v->events[i].at));
        json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:o,s:o}", "number", o->number, "status",
                                o->status, "email", o->email, "payment_method", o->payment_method, "subtotal",
                                (json_int_t)o->subtotal, "shipping", (json_int_t)o->shipping, "tax", (json_int_t)o->tax,
                                "total", (json_int_t)o->total, "currency", o->currency, "lines", lines, "events",
                                events);
        if (v->has_payment)
            json_object_set_new(doc, "payment", json_pack("{s:s,s:s,s:s,s:I}", "provider", v->payment.provider, "status",
                                                          v->payment.status, "ref", v->payment.provider_ref, "amount",
                                                          (json_int_t)v->payment.amount));
        char *s = json_dumps(doc, JSON_INDENT(2));
        puts(s);
        free(s);
        json_decref(doc);
    } else {
        printf("Order %s — %s, %s\n%s\n\n", o->number, o->status, o->payment_method, o->email);
        for (int i = 0; i < v->nlines; i++)
            printf("  %dx %s %s (%s, %s)  sku %s  %s\n", v->lines[i].quantity, v->lines[i].brand_name,
                   v->lines[i].product_name, v->lines[i].size_label, v->lines[i].colour_name, v->lines[i].sku,
                   fmt_money(v->lines[i].line_total, o->currency, a));
        printf("\n  items %s, delivery %s, total %s (VAT %s)\n", fmt_money(o->subtotal, o->currency, a),
               fmt_money(o->shipping, o->currency, b), fmt_money(o->total, o->currency, t),
               fmt_money(o->tax, o->currency, x));
        printf("  to: %s, %s, %s %s, %s\n\nhistory:\n", o->ship_name, o->ship_line1, o->ship_postcode, o->ship_city,
               o->ship_country);
        for (int i = 0; i < v->nevents; i++) {
            char when[32];
            time_t tt = (time_t)v->events[i].at;
            struct tm tm;
            gmtime_r(&tt, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            printf("  %s  %s → %s  by %s  %s\n", when, v->events[i].from[0] ? v->events[i].from : "(new)",
                   v->events[i].to, v->events[i].actor, v->events[i].note);
        }
    }
    free(v);
    return 0;
}

int cmd_orders(int argc, char **argv)
{
    bool as_json = false;
    const char *status = NULL;
    long long limit = 20;
    char *args[4];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) as_json = true;
        else if (!strcmp(argv[i], "--status") && i + 1 < argc) status = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
            if (!text_parse_int64(argv[++i], 1, 1000, &limit)) return usage();
        } else if (n < 4) args[n++] = argv[i];
        else return usage();
    }
    if (n == 0 || !strcmp(args[0], "list")) return n <= 1 ? list(status, (int)limit, as_json) : usage();
    if (!strcmp(args[0], "show") && n == 2) return show(args[1], as_json);
    static const struct { const char *verb, *to; } verbs[] = {
        {"ship", "shipped"}, {"deliver", "delivered"}, {"cancel", "cancelled"}, {"refund", "refunded"}};
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        if (strcmp(args[0], verbs[i].verb) || n < 2 || n > 3) continue;
        shop_error e;
        audit_actor me = audit_cli_actor();   /* the audit log names the person at the terminal */
        if (orders_transition_audited(args[1], verbs[i].to, "cli", n == 3 ? args[2] : "", NULL, &me, &e) != SHOP_OK) {
            fprintf(stderr, "shoease orders: %s\n", e.message);
            return e.status == SHOP_NOT_FOUND ? 1 : e.status == SHOP_CONFLICT ? 3 : 1;
        }
        printf("%s is %s\n", args[1], verbs[i].to);
        return 0;
    }
    return usage();
}
