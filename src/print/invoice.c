/* invoice.c — see invoice.h. Drawn with cairo's PDF surface and its text
 * API (a built-in sans font): the invoice is a few tables of text. */
#include "print/invoice.h"

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "shop/account_book.h"
#include "shop/money.h"
#include "shop/orders.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define A4_W 595.28
#define A4_H 841.89
#define MARGIN 50.0

void invoice_path(const char *number, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/invoices/%s.pdf", cfg.private_dir, number);
}

static void mkdirs(const char *dir)
{
    char tmp[512];
    text_copy(tmp, sizeof tmp, dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(tmp, 0750);
        *p = '/';
    }
    mkdir(tmp, 0750);
}

static void text_at(cairo_t *cr, double x, double y, double size, bool bold, const char *s)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
}

/* Right-aligned at x. */
static void text_right(cairo_t *cr, double x, double y, double size, bool bold, const char *s)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, s, &ext);
    cairo_move_to(cr, x - ext.x_advance, y);
    cairo_show_text(cr, s);
}

static void amount(const order_row *o, int64_t minor, char *out)
{
    money_format(money_make(minor, o->currency), out, MONEY_FORMAT_MAX);
}

static int draw(const order_view *v, const char *path)
{
    const order_row *o = &v->order;
    cairo_surface_t *surface = cairo_pdf_surface_create(path, A4_W, A4_H);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return -1;
    }
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, o->number);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, cfg.site_name);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 0.12, 0.11, 0.23);
    double y = MARGIN + 10;
    char line[400], money1[MONEY_FORMAT_MAX], money2[MONEY_FORMAT_MAX];

    text_at(cr, MARGIN, y, 22, true, cfg.site_name);
    text_right(cr, A4_W - MARGIN, y, 18, true, "INVOICE");
    y += 20;
    const char *seller = config_get("SELLER_ADDRESS");
    text_at(cr, MARGIN, y, 9, false, seller && *seller ? seller : "");
    const char *vat = config_get("SELLER_VAT_NUMBER");
    if (vat && *vat) {
        snprintf(line, sizeof line, "VAT number %s", vat);
        text_at(cr, MARGIN, y + 12, 9, false, line);
    }
    time_t when = (time_t)o->created_at;
    struct tm tm;
    gmtime_r(&when, &tm);
    char date[40];
    strftime(date, sizeof date, "%d %B %Y", &tm);
    snprintf(line, sizeof line, "Invoice %s", o->number);
    text_right(cr, A4_W - MARGIN, y, 10, false, line);
    snprintf(line, sizeof line, "Date %s", date);
    text_right(cr, A4_W - MARGIN, y + 13, 10, false, line);
    y += 50;

    text_at(cr, MARGIN, y, 10, true, "Billed and delivered to");
    y += 15;
    const char *addr[] = {o->ship_name, o->ship_line1, o->ship_line2, o->ship_city, o->ship_region, o->ship_postcode,
                          address_country_name(o->ship_country), o->email};
    for (size_t i = 0; i < sizeof addr / sizeof *addr; i++) {
        if (!addr[i] || !*addr[i]) continue;
        text_at(cr, MARGIN, y, 10, false, addr[i]);
        y += 13;
    }
    y += 20;

    /* the lines */
    double col_qty = 330, col_unit = 400, col_vat = 460, col_total = A4_W - MARGIN;
    text_at(cr, MARGIN, y, 9, true, "Item");
    text_right(cr, col_qty, y, 9, true, "Qty");
    text_right(cr, col_unit, y, 9, true, "Unit price");
    text_right(cr, col_vat, y, 9, true, "VAT");
    text_right(cr, col_total, y, 9, true, "Total");
    y += 6;
    cairo_set_line_width(cr, 0.6);
    cairo_move_to(cr, MARGIN, y);
    cairo_line_to(cr, A4_W - MARGIN, y);
    cairo_stroke(cr);
    y += 14;
    for (int i = 0; i < v->nlines; i++) {
        const order_line_row *l = &v->lines[i];
        if (y > A4_H - 160) {
            cairo_show_page(cr);
            y = MARGIN + 10;
        }
        snprintf(line, sizeof line, "%s %s", l->brand_name, l->product_name);
        text_at(cr, MARGIN, y, 10, false, line);
        snprintf(line, sizeof line, "%s, %s, SKU %s", l->size_label, l->colour_name, l->sku);
        text_at(cr, MARGIN, y + 11, 8, false, line);
        snprintf(line, sizeof line, "%d", l->quantity);
        text_right(cr, col_qty, y, 10, false, line);
        amount(o, l->unit_price, money1);
        text_right(cr, col_unit, y, 10, false, money1);
        snprintf(line, sizeof line, "%d%%", l->tax_rate_bp / 100);
        text_right(cr, col_vat, y, 10, false, line);
        amount(o, l->line_total, money2);
        text_right(cr, col_total, y, 10, false, money2);
        y += 28;
    }
    cairo_move_to(cr, MARGIN, y - 10);
    cairo_line_to(cr, A4_W - MARGIN, y - 10);
    cairo_stroke(cr);
    y += 6;
    struct {
        const char *label;
        int64_t value;
        bool bold;
    } totals[] = {{"Items", o->subtotal, false},
                  {!strcmp(o->shipping_method, "express") ? "Express delivery" : "Standard delivery", o->shipping, false},
                  {"Total", o->total, true},
                  {"of which VAT", o->tax, false}};
    for (size_t i = 0; i < sizeof totals / sizeof *totals; i++) {
        amount(o, totals[i].value, money1);
        text_right(cr, col_vat, y, 10, totals[i].bold, totals[i].label);
        text_right(cr, col_total, y, 10, totals[i].bold, money1);
        y += 16;
    }
    y += 20;
    snprintf(line, sizeof line, "Paid by %s. Prices include VAT.",
             !strcmp(o->payment_method, "cod") ? "cash on delivery" : "card");
    text_at(cr, MARGIN, y, 9, false, line);
    cairo_show_page(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    st = st == CAIRO_STATUS_SUCCESS ? cairo_surface_status(surface) : st;
    cairo_surface_destroy(surface);
    return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

int invoice_ensure(const char *number, char *path, size_t pathlen)
{
    invoice_path(number, path, pathlen);
    if (access(path, R_OK) == 0) return 0;
    order_view *v = malloc(sizeof *v);
    if (!v) abort();
    shop_error e;
    order_viewer staff = {.staff = true};
    int rc = -1;
    if (orders_view(number, &staff, v, &e) == SHOP_OK) {
        char dir[512], tmp[560];
        snprintf(dir, sizeof dir, "%s/invoices", cfg.private_dir);
        mkdirs(dir);
        snprintf(tmp, sizeof tmp, "%s/.%s.%d.tmp", dir, number, (int)getpid());
        if (draw(v, tmp) == 0 && rename(tmp, path) == 0) rc = 0;
        else {
            log_error("invoice: cannot write %s: %s", path, strerror(errno));
            unlink(tmp);
        }
    } else {
        log_error("invoice: order %s: %s", number, e.message);
    }
    free(v);
    return rc;
}

job_result invoice_job(const job *j, char *err, size_t errlen)
{
    const char *number = json_string_value(json_object_get(j->payload, "number"));
    if (!number || strlen(number) != 12) {
        snprintf(err, errlen, "orders.invoice: needs an order number");
        return JOB_FAILED;
    }
    char path[512];
    if (invoice_ensure(number, path, sizeof path) != 0) {
        snprintf(err, errlen, "orders.invoice: could not write the invoice of %s", number);
        return JOB_RETRY;
    }
    return JOB_DONE;
}
