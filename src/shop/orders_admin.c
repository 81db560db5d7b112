/* orders_admin.c — see orders_admin.h. */
#include "shop/orders_admin.h"

#include <string.h>

static const char STORE_DOWN[] = "Orders are unavailable for a moment. Please try again.";

const char *const orders_states[] = {"pending_payment", "paid", "cod_confirmed", "shipped",
                                     "delivered",       "cancelled", "refunded", NULL};

bool orders_state_valid(const char *status)
{
    for (int i = 0; status && orders_states[i]; i++)
        if (!strcmp(status, orders_states[i])) return true;
    return false;
}

const char *orders_state_label(const char *status)
{
    static const struct {
        const char *status, *label;
    } labels[] = {{"pending_payment", "Waiting for payment"},
                  {"paid", "Paid"},
                  {"cod_confirmed", "Confirmed (cash on delivery)"},
                  {"shipped", "Shipped"},
                  {"delivered", "Delivered"},
                  {"cancelled", "Cancelled"},
                  {"refunded", "Refunded"}};
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
        if (!strcmp(status, labels[i].status)) return labels[i].label;
    return status;
}

shop_status orders_search(const order_filter *f, const char *sort, bool desc, int offset, int max, order_summary *out,
                          int *n, int64_t *total, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? order_repo_search(c, f, sort, desc, offset, max, out, total) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *n = r;
    return SHOP_OK;
}

shop_status orders_mails(const char *number, outbox_subject_row *out, int max, int *n, shop_error *e)
{
    db_conn *c = db_conn_get();
    int r = c ? outbox_repo_about(c, "mail.send", number, out, max) : -1;
    if (r < 0) return shop_fail(e, SHOP_UNAVAILABLE, NULL, STORE_DOWN);
    *n = r;
    return SHOP_OK;
}
