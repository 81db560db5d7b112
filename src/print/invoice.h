/* invoice.h — the PDF invoice of an order (cairo), kept under
 * PRIVATE_DIR/invoices/<number>.pdf: never in a public folder; the app
 * checks who asks, then nginx sends the file (X-Accel-Redirect).
 *
 *   char path[512];
 *   if (invoice_ensure("SE7K3M9QXD2F", path, sizeof path) == 0) → send path
 *
 * An invoice shows the seller (SITE_NAME, SELLER_ADDRESS, SELLER_VAT_NUMBER),
 * the buyer and delivery address, the order number and date, every line
 * (name, size, colour, quantity, unit price, VAT rate, total), delivery, the
 * VAT and the total. Writing is atomic (a temporary file renamed), so a
 * half-written PDF is never sent, and doing it twice gives the same file. */
#ifndef SHOEASE_PRINT_INVOICE_H
#define SHOEASE_PRINT_INVOICE_H

#include "jobs/queue.h"

#include <stddef.h>

/* The file's path (whether it exists yet or not). */
void invoice_path(const char *number, char *out, size_t outlen);
/* Make the invoice if it is not there yet. 0 (path set), -1 (logged). */
int invoice_ensure(const char *number, char *path, size_t pathlen);
/* orders.invoice: payload {number}. */
job_result invoice_job(const job *j, char *err, size_t errlen);

#endif
