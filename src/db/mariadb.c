/* mariadb.c — db.h on libmariadb's prepared-statement API.
 *
 * Each thread owns one connection (workers run a fixed MHD thread pool, so
 * the number of connections is workers × threads). A connection is a stable
 * struct: when the server goes away we close the MYSQL handle, bump the
 * generation counter and reconnect lazily; cached db_stmt objects notice the
 * new generation and re-prepare themselves, so callers may keep pointers. */
#include "db/db.h"

#include "core/config.h"
#include "core/log.h"

#include <errmsg.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum param_kind { P_NULL, P_INT, P_TEXT, P_BLOB };

struct param {
    enum param_kind kind;
    long long i;
    char *s;
    unsigned long len, cap;
};

struct db_stmt {
    db_conn *conn;
    uint64_t hash;            /* of sql, to skip most string compares */
    char *sql;
    MYSQL_STMT *st;
    unsigned gen;
    int nparams;
    struct param *params;
    MYSQL_BIND *pbind;
    int ncols;
    MYSQL_BIND *rbind;
    char **colbuf;
    unsigned long *colcap, *collen;
    my_bool *colnull, *colerr;
    int64_t *colint;          /* integer columns arrive here, not as text */
    bool *colisint, *colunsigned;
    bool has_result;
    struct db_stmt *next;
};

struct db_conn {
    MYSQL *my;
    unsigned gen;
    bool in_tx;
    db_stmt *stmts;          /* most recently used first */
    int nstmts;
};

/* Prepared statements are a server resource (max_prepared_stmt_count is
 * shared by every connection), and listing SQL has many filter shapes: keep
 * the most recently used ones per connection and close the rest. A caller
 * uses a statement right after preparing it, so evicting the least recently
 * prepared one never pulls a statement from under its user. */
#define MAX_STMTS_PER_CONN 96

static __thread db_conn *thread_conn;
static __thread char thread_err[512];
static __thread unsigned thread_errno;

const char *db_last_error(void) { return thread_err; }

char *db_like_escape(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(2 * n + 1), *w = o;
    if (!o) abort();
    for (const char *p = s; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') *w++ = '\\';
        *w++ = *p;
    }
    *w = '\0';
    return o;
}

unsigned db_last_errno(void) { return thread_errno; }
void db_clear_error(void)
{
    thread_err[0] = '\0';
    thread_errno = 0;
}

static void set_err(const char *what, unsigned no, const char *msg)
{
    snprintf(thread_err, sizeof thread_err, "%s: %s (%u)", what, msg, no);
    thread_errno = no;
}

/* Errors after which the connection cannot be trusted any more. */
static bool is_connection_error(unsigned no)
{
    return no == CR_SERVER_GONE_ERROR || no == CR_SERVER_LOST || no == CR_CONNECTION_ERROR ||
           no == CR_CONN_HOST_ERROR || no == CR_SERVER_LOST_EXTENDED || no == 1927 /* ER_CONNECTION_KILLED */ ||
           no == 4031 /* ER_CLIENT_INTERACTION_TIMEOUT */ || no == CR_COMMANDS_OUT_OF_SYNC;
}

static void drop_handles(db_conn *c)
{
    for (db_stmt *s = c->stmts; s; s = s->next) {
        if (s->st) mysql_stmt_close(s->st);
        s->st = NULL;
        s->has_result = false;
    }
    if (c->my) mysql_close(c->my);
    c->my = NULL;
    c->gen++;
    c->in_tx = false;
}

static int connect_thread_conn(db_conn *c)
{
    MYSQL *my = mysql_init(NULL);
    if (!my) { set_err("connect", 0, "out of memory"); return -1; }
    unsigned int connect_timeout = 2, rw_timeout = 30;
    mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* UTC everywhere, and strict mode so bad data is an error, never a
     * silent truncation. */
    mysql_optionsv(my, MYSQL_INIT_COMMAND,
                   "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
                   "NO_ZERO_DATE,NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION'");
    const char *sock = cfg.mariadb_socket && cfg.mariadb_socket[0] ? cfg.mariadb_socket : NULL;
    if (!mysql_real_connect(my, sock ? NULL : cfg.mariadb_host, cfg.mariadb_user, cfg.mariadb_password,
                            cfg.mariadb_database, (unsigned)cfg.mariadb_port, sock, 0)) {
        set_err("connect", mysql_errno(my), mysql_error(my));
        mysql_close(my);
        return -1;
    }
    c->my = my;
    return 0;
}

db_conn *db_conn_get(void)
{
    if (!thread_conn) {
        thread_conn = calloc(1, sizeof *thread_conn);
        if (!thread_conn) return NULL;
    }
    if (!thread_conn->my && connect_thread_conn(thread_conn) < 0) {
        log_warn("mariadb: %s", thread_err);
        return NULL;
    }
    return thread_conn;
}

static void free_stmt(db_stmt *s)
{
    if (s->st) mysql_stmt_close(s->st);
    for (int i = 0; i < s->nparams; i++) free(s->params[i].s);
    for (int i = 0; i < s->ncols; i++) free(s->colbuf[i]);
    free(s->params); free(s->pbind); free(s->rbind); free(s->colbuf);
    free(s->colcap); free(s->collen); free(s->colnull); free(s->colerr);
    free(s->colint); free(s->colisint); free(s->colunsigned);
    free(s->sql);
    free(s);
}

void db_conn_close(void)
{
    db_conn *c = thread_conn;
    if (!c) return;
    db_stmt *s = c->stmts;
    while (s) {
        db_stmt *next = s->next;
        free_stmt(s);
        s = next;
    }
    if (c->my) mysql_close(c->my);
    free(c);
    thread_conn = NULL;
}

int db_ping(void)
{
    db_conn *c = db_conn_get();
    if (!c) return -1;
    if (mysql_ping(c->my) != 0) {
        set_err("ping", mysql_errno(c->my), mysql_error(c->my));
        drop_handles(c);
        /* one fresh attempt: the server may have come back since */
        c = db_conn_get();
        if (!c || mysql_ping(c->my) != 0) return -1;
    }
    return 0;
}

/* (Re)prepare s->sql on the current connection handle. */
static int prepare_handle(db_stmt *s)
{
    db_conn *c = s->conn;
    s->st = mysql_stmt_init(c->my);
    if (!s->st) { set_err("prepare", 0, "out of memory"); return -1; }
    my_bool update_max = 1;
    mysql_stmt_attr_set(s->st, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
    if (mysql_stmt_prepare(s->st, s->sql, (unsigned long)strlen(s->sql)) != 0) {
        unsigned no = mysql_stmt_errno(s->st);
        set_err("prepare", no, mysql_stmt_error(s->st));
        mysql_stmt_close(s->st);
        s->st = NULL;
        if (is_connection_error(no)) drop_handles(c);
        return -1;
    }
    int np = (int)mysql_stmt_param_count(s->st);
    if (s->params && np != s->nparams) {
        set_err("prepare", 0, "parameter count changed");
        return -1;
    }
    if (!s->params && np > 0) {
        s->params = calloc((size_t)np, sizeof *s->params);
        s->pbind = calloc((size_t)np, sizeof *s->pbind);
        if (!s->params || !s->pbind) abort();
    }
    s->nparams = np;
    s->gen = c->gen;
    return 0;
}

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

db_stmt *db_prepare(db_conn *c, const char *sql)
{
    if (!c) return NULL;
    uint64_t h = hash_sql(sql);
    for (db_stmt **pp = &c->stmts; *pp; pp = &(*pp)->next) {
        db_stmt *s = *pp;
        if (s->hash != h || strcmp(s->sql, sql) != 0) continue;
        *pp = s->next; /* move to front */
        s->next = c->stmts;
        c->stmts = s;
        return s;
    }
    db_stmt *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->conn = c;
    s->hash = h;
    s->sql = strdup(sql);
    if (!c->my && !db_conn_get()) { free_stmt(s); return NULL; }
    bool was_in_tx = c->in_tx;
    /* A connection the server dropped (a restart, a kill) shows first here
     * when this thread's next statement is one it has not prepared yet:
     * outside a transaction, prepare it once more on a fresh connection, as
     * db_exec runs a statement again; inside one, the caller must see the
     * failure (the transaction is gone). */
    if (prepare_handle(s) < 0 && (was_in_tx || c->my || !db_conn_get() || prepare_handle(s) < 0)) {
        log_error("mariadb: %s in: %.200s", thread_err, sql);
        free_stmt(s);
        return NULL;
    }
    if (c->nstmts >= MAX_STMTS_PER_CONN) {
        db_stmt **pp = &c->stmts;
        while ((*pp)->next) pp = &(*pp)->next;
        free_stmt(*pp);
        *pp = NULL;
        c->nstmts--;
    }
    s->next = c->stmts;
    c->stmts = s;
    c->nstmts++;
    return s;
}

static struct param *param_at(db_stmt *st, int idx)
{
    if (idx < 0 || idx >= st->nparams) {
        log_error("mariadb: bind index %d out of range (statement has %d) in: %.200s", idx, st->nparams, st->sql);
        abort(); /* a programming error, never input-driven */
    }
    return &st->params[idx];
}

void db_bind_int64(db_stmt *st, int idx, int64_t v)
{
    struct param *p = param_at(st, idx);
    p->kind = P_INT;
    p->i = v;
}

static void bind_bytes(db_stmt *st, int idx, const void *data, size_t len, enum param_kind kind)
{
    struct param *p = param_at(st, idx);
    if (len + 1 > p->cap) {
        p->cap = (unsigned long)len + 1;
        p->s = realloc(p->s, p->cap);
        if (!p->s) abort();
    }
    if (len) memcpy(p->s, data, len);
    p->s[len] = '\0';
    p->len = (unsigned long)len;
    p->kind = kind;
}

void db_bind_text(db_stmt *st, int idx, const char *s, long len)
{
    bind_bytes(st, idx, s, len < 0 ? strlen(s) : (size_t)len, P_TEXT);
}

void db_bind_blob(db_stmt *st, int idx, const void *p, size_t len) { bind_bytes(st, idx, p, len, P_BLOB); }

void db_bind_null(db_stmt *st, int idx) { param_at(st, idx)->kind = P_NULL; }

static int bind_result_columns(db_stmt *s)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(s->st);
    if (!meta) { s->ncols = 0; return 0; }
    int n = (int)mysql_num_fields(meta);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    if (n != s->ncols) {
        for (int i = 0; i < s->ncols; i++) free(s->colbuf[i]);
        free(s->rbind); free(s->colbuf); free(s->colcap); free(s->collen); free(s->colnull); free(s->colerr);
        free(s->colint); free(s->colisint); free(s->colunsigned);
        s->ncols = n;
        s->rbind = calloc((size_t)n, sizeof *s->rbind);
        s->colbuf = calloc((size_t)n, sizeof *s->colbuf);
        s->colcap = calloc((size_t)n, sizeof *s->colcap);
        s->collen = calloc((size_t)n, sizeof *s->collen);
        s->colnull = calloc((size_t)n, sizeof *s->colnull);
        s->colerr = calloc((size_t)n, sizeof *s->colerr);
        s->colint = calloc((size_t)n, sizeof *s->colint);
        s->colisint = calloc((size_t)n, sizeof *s->colisint);
        s->colunsigned = calloc((size_t)n, sizeof *s->colunsigned);
        if (!s->rbind || !s->colbuf || !s->colcap || !s->collen || !s->colnull || !s->colerr || !s->colint ||
            !s->colisint || !s->colunsigned)
            abort();
    }
    for (int i = 0; i < n; i++) {
        /* Integer columns are fetched as 64-bit integers (formatting them
         * as text to parse them back cost a listing ~3 %); every other
         * column as text: decimals and dates convert exactly. max_length is
         * known because the whole result is buffered
         * (STMT_ATTR_UPDATE_MAX_LENGTH). db_col_text formats an integer
         * column on demand. */
        unsigned long want = fields[i].max_length + 1;
        if (want < 64) want = 64;
        if (want > s->colcap[i]) {
            s->colbuf[i] = realloc(s->colbuf[i], want);
            if (!s->colbuf[i]) abort();
            s->colcap[i] = want;
        }
        memset(&s->rbind[i], 0, sizeof s->rbind[i]);
        enum enum_field_types t = fields[i].type;
        s->colisint[i] = t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_INT24 ||
                         t == MYSQL_TYPE_LONG || t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_YEAR;
        s->colunsigned[i] = (fields[i].flags & UNSIGNED_FLAG) != 0;
        if (s->colisint[i]) {
            s->rbind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            s->rbind[i].buffer = &s->colint[i];
            s->rbind[i].buffer_length = sizeof s->colint[i];
            s->rbind[i].is_unsigned = s->colunsigned[i];
        } else {
            s->rbind[i].buffer_type = MYSQL_TYPE_STRING;
            s->rbind[i].buffer = s->colbuf[i];
            s->rbind[i].buffer_length = s->colcap[i] - 1;
        }
        s->rbind[i].length = &s->collen[i];
        s->rbind[i].is_null = &s->colnull[i];
        s->rbind[i].error = &s->colerr[i];
    }
    mysql_free_result(meta);
    if (mysql_stmt_bind_result(s->st, s->rbind) != 0) {
        set_err("bind result", mysql_stmt_errno(s->st), mysql_stmt_error(s->st));
        return -1;
    }
    return 0;
}

static int execute_once(db_stmt *s, unsigned *errno_out)
{
    *errno_out = 0;
    if (!s->conn->my && !db_conn_get()) { *errno_out = CR_CONNECTION_ERROR; return -1; }
    if (!s->st || s->gen != s->conn->gen) {
        if (s->st) { mysql_stmt_close(s->st); s->st = NULL; }
        if (prepare_handle(s) < 0) { *errno_out = CR_CONNECTION_ERROR; return -1; }
    }
    if (s->has_result) { mysql_stmt_free_result(s->st); s->has_result = false; }
    for (int i = 0; i < s->nparams; i++) {
        struct param *p = &s->params[i];
        MYSQL_BIND *b = &s->pbind[i];
        memset(b, 0, sizeof *b);
        switch (p->kind) {
        case P_NULL: b->buffer_type = MYSQL_TYPE_NULL; break;
        case P_INT: b->buffer_type = MYSQL_TYPE_LONGLONG; b->buffer = &p->i; break;
        case P_TEXT: b->buffer_type = MYSQL_TYPE_STRING; b->buffer = p->s; b->buffer_length = p->len; b->length = &p->len; break;
        case P_BLOB: b->buffer_type = MYSQL_TYPE_BLOB; b->buffer = p->s; b->buffer_length = p->len; b->length = &p->len; break;
        }
    }
    if ((s->nparams && mysql_stmt_bind_param(s->st, s->pbind) != 0) || mysql_stmt_execute(s->st) != 0 ||
        bind_result_columns(s) != 0 || (s->ncols && mysql_stmt_store_result(s->st) != 0)) {
        *errno_out = mysql_stmt_errno(s->st);
        set_err("execute", *errno_out, mysql_stmt_error(s->st));
        return -1;
    }
    s->has_result = s->ncols > 0;
    return 0;
}

int db_exec(db_stmt *st)
{
    if (!st) return -1;
    unsigned no;
    if (execute_once(st, &no) == 0) return 0;
    if (is_connection_error(no)) {
        bool was_in_tx = st->conn->in_tx;
        drop_handles(st->conn);
        /* Outside a transaction a statement can safely run again on a new
         * connection; inside one, the transaction is gone and the caller
         * must see the failure. */
        if (!was_in_tx && execute_once(st, &no) == 0) return 0;
    }
    log_error("mariadb: %s in: %.200s", thread_err, st->sql);
    return -1;
}

int db_fetch(db_stmt *st)
{
    if (!st->has_result) return 0;
    int rc = mysql_stmt_fetch(st->st);
    if (rc == MYSQL_NO_DATA) return 0;
    if (rc == 1) {
        set_err("fetch", mysql_stmt_errno(st->st), mysql_stmt_error(st->st));
        log_error("mariadb: %s", thread_err);
        return -1;
    }
    if (rc == MYSQL_DATA_TRUNCATED) {
        for (int i = 0; i < st->ncols; i++) {
            if (!st->colerr[i] || st->colisint[i]) continue;
            unsigned long want = st->collen[i] + 1;
            st->colbuf[i] = realloc(st->colbuf[i], want);
            if (!st->colbuf[i]) abort();
            st->colcap[i] = want;
            st->rbind[i].buffer = st->colbuf[i];
            st->rbind[i].buffer_length = want - 1;
            if (mysql_stmt_fetch_column(st->st, &st->rbind[i], (unsigned)i, 0) != 0) return -1;
        }
        mysql_stmt_bind_result(st->st, st->rbind);
    }
    for (int i = 0; i < st->ncols; i++)
        if (!st->colnull[i] && !st->colisint[i])
            st->colbuf[i][st->collen[i] < st->colcap[i] ? st->collen[i] : st->colcap[i] - 1] = '\0';
    return 1;
}

int db_ncols(db_stmt *st) { return st->ncols; }
uint64_t db_nrows(db_stmt *st) { return st->has_result ? mysql_stmt_num_rows(st->st) : 0; }
bool db_col_is_null(db_stmt *st, int col) { return col < 0 || col >= st->ncols || st->colnull[col]; }

const char *db_col_text(db_stmt *st, int col, size_t *len)
{
    if (db_col_is_null(st, col)) { if (len) *len = 0; return ""; }
    if (st->colisint[col]) { /* colcap is at least 64 */
        int n = st->colunsigned[col] ? snprintf(st->colbuf[col], st->colcap[col], "%llu", (unsigned long long)st->colint[col])
                                     : snprintf(st->colbuf[col], st->colcap[col], "%lld", (long long)st->colint[col]);
        if (len) *len = n > 0 ? (size_t)n : 0;
        return st->colbuf[col];
    }
    if (len) *len = st->collen[col];
    return st->colbuf[col];
}

const char *db_col_arena(db_stmt *st, int col, arena *a)
{
    size_t n;
    const char *s = db_col_text(st, col, &n);
    return arena_strndup(a, s, n);
}

int64_t db_col_int64(db_stmt *st, int col)
{
    if (db_col_is_null(st, col)) return 0;
    return st->colisint[col] ? st->colint[col] : strtoll(st->colbuf[col], NULL, 10);
}

double db_col_double(db_stmt *st, int col)
{
    if (db_col_is_null(st, col)) return 0.0;
    if (st->colisint[col]) return st->colunsigned[col] ? (double)(uint64_t)st->colint[col] : (double)st->colint[col];
    return strtod(st->colbuf[col], NULL);
}

uint64_t db_affected_rows(db_stmt *st) { return st->st ? mysql_stmt_affected_rows(st->st) : 0; }
uint64_t db_insert_id(db_stmt *st) { return st->st ? mysql_stmt_insert_id(st->st) : 0; }

void db_reset(db_stmt *st)
{
    if (st->st && st->has_result) mysql_stmt_free_result(st->st);
    st->has_result = false;
    for (int i = 0; i < st->nparams; i++) st->params[i].kind = P_NULL;
}

static int simple_query(db_conn *c, const char *sql)
{
    if (!c || (!c->my && !db_conn_get())) return -1;
    if (mysql_real_query(c->my, sql, (unsigned long)strlen(sql)) != 0) {
        unsigned no = mysql_errno(c->my);
        set_err("query", no, mysql_error(c->my));
        log_error("mariadb: %s in: %.200s", thread_err, sql);
        if (is_connection_error(no)) drop_handles(c);
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(c->my);
    if (r) mysql_free_result(r);
    return 0;
}

int db_begin(db_conn *c)
{
    if (simple_query(c, "START TRANSACTION") < 0) return -1;
    c->in_tx = true;
    return 0;
}

int db_commit(db_conn *c)
{
    int rc = simple_query(c, "COMMIT");
    if (c) c->in_tx = false;
    return rc;
}

int db_rollback(db_conn *c)
{
    int rc = simple_query(c, "ROLLBACK");
    if (c) c->in_tx = false;
    return rc;
}

int db_exec_simple(db_conn *c, const char *sql) { return simple_query(c, sql); }

int db_exec_script(db_conn *c, const char *sql, size_t len)
{
    if (!c || (!c->my && !db_conn_get())) return -1;
    mysql_set_server_option(c->my, MYSQL_OPTION_MULTI_STATEMENTS_ON);
    int rc = 0, status;
    if (mysql_real_query(c->my, sql, (unsigned long)len) != 0) {
        rc = -1;
    } else {
        do {
            MYSQL_RES *r = mysql_store_result(c->my);
            if (r) mysql_free_result(r);
            status = mysql_next_result(c->my);
            if (status > 0) rc = -1;
        } while (status == 0);
    }
    if (rc < 0) set_err("script", mysql_errno(c->my), mysql_error(c->my));
    mysql_set_server_option(c->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
    return rc;
}

int db_run(db_stmt *st)
{
    int rc = db_exec(st);
    db_reset(st);
    return rc;
}

long long db_run_count(db_stmt *st)
{
    if (db_exec(st) < 0) {
        db_reset(st);
        return -1;
    }
    long long n = (long long)db_affected_rows(st);
    db_reset(st);
    return n;
}

int db_run_int(db_stmt *st, int64_t *v)
{
    int rc = db_exec(st) < 0 ? -1 : db_fetch(st);
    if (rc == 1 && v) *v = db_col_int64(st, 0);
    db_reset(st);
    return rc < 0 ? -1 : rc;
}
