/* config.c — .env parsing, defaults, and the production check.
 *
 * The env file format is the common dotenv subset: KEY=VALUE lines, '#'
 * comments, optional single or double quotes around the value, optional
 * leading "export ". No variable expansion: a secret containing '$' must
 * stay what it is. */
#include "core/config.h"

#include "core/buf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

config cfg;

/* The placeholder shipped in .env.example; production refuses it. */
#define EXAMPLE_SECRET "change-me"
#define MIN_SECRET_LEN 32

/* Key/value pairs read from the env file (kept for config_get). */
static struct kv { char *key, *value; } *file_kv;
static size_t file_kv_n;

static void free_file_kv(void)
{
    for (size_t i = 0; i < file_kv_n; i++) {
        free(file_kv[i].key);
        free(file_kv[i].value);
    }
    free(file_kv);
    file_kv = NULL;
    file_kv_n = 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static int read_env_file(const char *path, bool must_exist)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !must_exist) return 0;
        fprintf(stderr, "shoease: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        if (strncmp(s, "export ", 7) == 0) s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "shoease: %s:%d: expected KEY=VALUE\n", path, lineno);
            fclose(f);
            return -1;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        } else {
            /* an unquoted value may carry a trailing " # comment" */
            char *hash = strstr(val, " #");
            if (hash) { *hash = '\0'; val = trim(val); }
        }
        file_kv = realloc(file_kv, (file_kv_n + 1) * sizeof *file_kv);
        if (!file_kv) abort();
        file_kv[file_kv_n].key = strdup(key);
        file_kv[file_kv_n].value = strdup(val);
        file_kv_n++;
    }
    fclose(f);
    return 0;
}

const char *config_get(const char *key)
{
    const char *v = getenv(key);
    if (v) return v;
    for (size_t i = file_kv_n; i-- > 0;)
        if (strcmp(file_kv[i].key, key) == 0) return file_kv[i].value;
    return NULL;
}

static bool load_error;

static char *str_setting(const char *key, const char *def)
{
    const char *v = config_get(key);
    return strdup(v ? v : def);
}

static long long int_setting(const char *key, long long def, long long min, long long max)
{
    const char *v = config_get(key);
    if (!v || !*v) return def;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *trim(end) || n < min || n > max) {
        fprintf(stderr, "shoease: %s=%s is not a whole number between %lld and %lld\n", key, v, min, max);
        load_error = true;
        return def;
    }
    return n;
}

static bool bool_setting(const char *key, bool def)
{
    const char *v = config_get(key);
    if (!v || !*v) return def;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) return true;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) return false;
    fprintf(stderr, "shoease: %s=%s is not a boolean (use 1/0, true/false)\n", key, v);
    load_error = true;
    return def;
}

/* Split a comma-separated setting into trimmed, non-empty items. */
static int list_setting(const char *key, const char *def, char **items)
{
    const char *v = config_get(key);
    char *copy = strdup(v ? v : def), *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (!*tok) continue;
        if (n == CFG_MAX_LIST) {
            fprintf(stderr, "shoease: %s has more than %d items\n", key, CFG_MAX_LIST);
            load_error = true;
            break;
        }
        items[n++] = strdup(tok);
    }
    free(copy);
    return n;
}

/* "standard=2000,reduced=500,zero=0": VAT rates in basis points. */
static int parse_tax_rates(const char *v)
{
    cfg.tax_standard_bp = 2000;
    cfg.tax_reduced_bp = 500;
    cfg.tax_zero_bp = 0;
    if (!v || !*v) return 0;
    char *copy = strdup(v), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        char *end = NULL;
        long bp = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq || !end || *end || bp < 0 || bp > 10000) {
            fprintf(stderr, "shoease: TAX_RATES: expected class=basis_points (0-10000), got '%s'\n", item);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(item);
        if (!strcmp(name, "standard")) cfg.tax_standard_bp = (int)bp;
        else if (!strcmp(name, "reduced")) cfg.tax_reduced_bp = (int)bp;
        else if (!strcmp(name, "zero")) cfg.tax_zero_bp = (int)bp;
        else {
            fprintf(stderr, "shoease: TAX_RATES: unknown tax class '%s' (standard, reduced, zero)\n", name);
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

static void free_config(void)
{
    char **strs[] = {&cfg.secret_key, &cfg.env_file, &cfg.admin_path, &cfg.template_dir, &cfg.static_dir,
                     &cfg.migrations_dir, &cfg.media_dir, &cfg.access_log, &cfg.mariadb_host,
                     &cfg.mariadb_socket, &cfg.mariadb_user, &cfg.mariadb_password, &cfg.mariadb_database,
                     &cfg.redis_host, &cfg.redis_password, &cfg.mongo_uri, &cfg.mongo_database,
                     &cfg.smtp_url, &cfg.mail_from, &cfg.currency, &cfg.site_name, &cfg.public_url,
                     &cfg.run_as_user, &cfg.queue_redis_url, &cfg.queue_redis_ca, &cfg.smtp_username,
                     &cfg.smtp_password, &cfg.smtp_ca_file, &cfg.sms_provider, &cfg.sms_log_path,
                     &cfg.sms_gateway_url, &cfg.sms_account_sid, &cfg.sms_auth_token, &cfg.sms_from,
                     &cfg.job_concurrency, &cfg.job_rate_limits, &cfg.stripe_api_base, &cfg.stripe_secret_key,
                     &cfg.stripe_publishable_key, &cfg.stripe_webhook_secret, &cfg.staff_alert_email,
                     &cfg.private_dir};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) free(*strs[i]);
    for (int i = 0; i < cfg.n_allowed_hosts; i++) free(cfg.allowed_hosts[i]);
    for (int i = 0; i < cfg.n_trusted_proxies; i++) free(cfg.trusted_proxies[i]);
    for (int i = 0; i < cfg.n_binds; i++) free(cfg.binds[i]);
    memset(&cfg, 0, sizeof cfg);
}

int config_load(void)
{
    free_config();
    free_file_kv();
    load_error = false;

    const char *file = getenv("SHOEASE_ENV_FILE");
    bool explicit_file = file && *file;
    cfg.env_file = strdup(explicit_file ? file : ".env");
    if (read_env_file(cfg.env_file, explicit_file) < 0) return -1;

    const char *env = config_get("SHOEASE_ENV");
    if (env && strcmp(env, "production") && strcmp(env, "development")) {
        fprintf(stderr, "shoease: SHOEASE_ENV=%s: use development or production\n", env);
        return -1;
    }
    cfg.production = env && !strcmp(env, "production");
    cfg.debug = bool_setting("DEBUG", false);
    cfg.secret_key = str_setting("SECRET_KEY", "");

    cfg.n_allowed_hosts = list_setting("ALLOWED_HOSTS", cfg.production ? "" : "localhost,127.0.0.1,.ngrok-free.app",
                                       cfg.allowed_hosts);
    cfg.n_trusted_proxies = list_setting("TRUSTED_PROXIES", "unix,127.0.0.1", cfg.trusted_proxies);
    cfg.n_binds = list_setting("BIND", "127.0.0.1:8000", cfg.binds);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.workers = (int)int_setting("WORKERS", cores > 0 ? cores : 2, 1, 256);
    cfg.worker_threads = (int)int_setting("WORKER_THREADS", 8, 1, 256);
    cfg.worker_timeout = (int)int_setting("WORKER_TIMEOUT", 30, 1, 3600);
    cfg.graceful_timeout = (int)int_setting("GRACEFUL_TIMEOUT", 20, 1, 3600);
    cfg.read_timeout = (int)int_setting("READ_TIMEOUT", 15, 1, 3600);
    cfg.max_body_bytes = (size_t)int_setting("MAX_BODY_BYTES", 1 << 20, 1024, 1LL << 30);
    cfg.max_header_bytes = (size_t)int_setting("MAX_HEADER_BYTES", 16384, 4096, 1 << 20);
    cfg.upload_max_bytes = (size_t)int_setting("UPLOAD_MAX_BYTES", 10 << 20, 65536, 1LL << 30);
    cfg.secure_cookies = bool_setting("SECURE_COOKIES", true);
    cfg.hsts_seconds = (int)int_setting("HSTS_SECONDS", 31536000, 0, 1LL << 30);
    cfg.admin_path = str_setting("ADMIN_PATH", "/secure-admin-portal");
    cfg.sandbox = bool_setting("SANDBOX", true);
    cfg.test_hooks = bool_setting("TEST_HOOKS", false);
    cfg.admin_require_2fa = bool_setting("ADMIN_REQUIRE_2FA", cfg.production);
    cfg.admin_reauth_seconds = (int)int_setting("ADMIN_REAUTH_SECONDS", 300, 30, 3600);
    cfg.run_as_user = str_setting("RUN_AS_USER", "");

    cfg.template_dir = str_setting("TEMPLATE_DIR", "templates");
    cfg.static_dir = str_setting("STATIC_DIR", "static");
    cfg.migrations_dir = str_setting("MIGRATIONS_DIR", "migrations");
    cfg.media_dir = str_setting("MEDIA_DIR", "var/media");
    cfg.access_log = str_setting("ACCESS_LOG", "-");

    cfg.mariadb_host = str_setting("MARIADB_HOST", "127.0.0.1");
    cfg.mariadb_port = (int)int_setting("MARIADB_PORT", 13306, 0, 65535);
    cfg.mariadb_socket = str_setting("MARIADB_SOCKET", "");
    cfg.mariadb_user = str_setting("MARIADB_USER", "shoease");
    cfg.mariadb_password = str_setting("MARIADB_PASSWORD", "");
    cfg.mariadb_database = str_setting("MARIADB_DATABASE", "shoease");
    cfg.redis_host = str_setting("REDIS_HOST", "127.0.0.1");
    cfg.redis_port = (int)int_setting("REDIS_PORT", 16379, 1, 65535);
    cfg.redis_password = str_setting("REDIS_PASSWORD", "");
    cfg.redis_db = (int)int_setting("REDIS_DB", 0, 0, 255);
    cfg.mongo_uri = str_setting("MONGO_URI", "mongodb://127.0.0.1:17017/");
    cfg.mongo_database = str_setting("MONGO_DATABASE", "shoease");
    cfg.smtp_url = str_setting("SMTP_URL", "smtp://127.0.0.1:12525");
    cfg.mail_from = str_setting("MAIL_FROM", "ShoEase <orders@shoease.local>");
    cfg.smtp_username = str_setting("SMTP_USERNAME", "");
    cfg.smtp_password = str_setting("SMTP_PASSWORD", "");
    cfg.smtp_starttls = bool_setting("SMTP_STARTTLS", false);
    cfg.smtp_ca_file = str_setting("SMTP_CA_FILE", "");
    cfg.queue_redis_url = str_setting("QUEUE_REDIS_URL", "redis://127.0.0.1:16380/0");
    cfg.queue_redis_ca = str_setting("QUEUE_REDIS_CA", "");

    cfg.sms_provider = str_setting("SMS_PROVIDER", "log");
    cfg.sms_log_path = str_setting("SMS_LOG_PATH", "var/dev/outbox/sms.log");
    cfg.sms_gateway_url = str_setting("SMS_GATEWAY_URL", "");
    cfg.sms_account_sid = str_setting("SMS_ACCOUNT_SID", "");
    cfg.sms_auth_token = str_setting("SMS_AUTH_TOKEN", "");
    cfg.sms_from = str_setting("SMS_FROM", "ShoEase");

    cfg.session_idle_seconds = (int)int_setting("SESSION_IDLE_SECONDS", 7 * 86400, 60, 365 * 86400);
    cfg.session_absolute_seconds = (int)int_setting("SESSION_ABSOLUTE_SECONDS", 30 * 86400, 60, 365 * 86400);
    cfg.staff_session_seconds = (int)int_setting("STAFF_SESSION_SECONDS", 8 * 3600, 60, 7 * 86400);
    cfg.password_ops = (int)int_setting("PASSWORD_HASH_OPS", 3, 1, 20);
    cfg.password_mem_mb = (int)int_setting("PASSWORD_HASH_MEM_MB", 64, 8, 4096);

    if (parse_tax_rates(config_get("TAX_RATES")) != 0) load_error = true;
    cfg.shipping_standard = int_setting("SHIPPING_STANDARD", 399, 0, 100000000);
    cfg.shipping_express = int_setting("SHIPPING_EXPRESS", 899, 0, 100000000);
    cfg.free_shipping_over = int_setting("FREE_SHIPPING_OVER", 5000, 0, 1000000000);
    cfg.card_order_minutes = (int)int_setting("CARD_ORDER_MINUTES", 30, 1, 7 * 24 * 60);
    cfg.max_line_quantity = (int)int_setting("MAX_LINE_QUANTITY", 10, 1, 10);
    cfg.stripe_api_base = str_setting("STRIPE_API_BASE", "https://api.stripe.com");
    cfg.stripe_secret_key = str_setting("STRIPE_SECRET_KEY", "");
    cfg.stripe_publishable_key = str_setting("STRIPE_PUBLISHABLE_KEY", "");
    cfg.stripe_webhook_secret = str_setting("STRIPE_WEBHOOK_SECRET", "");
    cfg.staff_alert_email = str_setting("STAFF_ALERT_EMAIL", "");
    cfg.private_dir = str_setting("PRIVATE_DIR", "var/private");

    cfg.job_processes = (int)int_setting("JOB_PROCESSES", 2, 1, 64);
    cfg.job_concurrency = str_setting("JOB_CONCURRENCY", "");
    cfg.job_rate_limits = str_setting("JOB_RATE_LIMITS", "");
    cfg.job_lease_ms = (int)int_setting("JOB_LEASE_MS", 5000, 1000, 600000);
    cfg.outbox_resend_seconds = (int)int_setting("OUTBOX_RESEND_SECONDS", 300, 1, 86400 * 7);

    cfg.activity_log = bool_setting("ACTIVITY_LOG", true);
    cfg.activity_ttl_days = (int)int_setting("ACTIVITY_TTL_DAYS", 30, 1, 3650);
    cfg.event_backlog_max = (int)int_setting("EVENT_BACKLOG_MAX", 200000, 1000, 100000000);

    cfg.currency = str_setting("CURRENCY", "GBP");
    cfg.site_name = str_setting("SITE_NAME", "ShoEase");
    cfg.public_url = str_setting("PUBLIC_URL", "https://localhost:8443");

    if (strlen(cfg.currency) != 3) {
        fprintf(stderr, "shoease: CURRENCY=%s is not a 3-letter ISO 4217 code\n", cfg.currency);
        load_error = true;
    }
    if (strcmp(cfg.sms_provider, "log") && strcmp(cfg.sms_provider, "http")) {
        fprintf(stderr, "shoease: SMS_PROVIDER=%s: use log or http\n", cfg.sms_provider);
        load_error = true;
    }
    if (strncmp(cfg.queue_redis_url, "redis://", 8) && strncmp(cfg.queue_redis_url, "rediss://", 9)) {
        fprintf(stderr, "shoease: QUEUE_REDIS_URL must start with redis:// or rediss://\n");
        load_error = true;
    }
    /* one path segment of safe characters, away from the shop's own paths */
    static const char *const taken[] = {"/account", "/cart", "/checkout", "/orders", "/products", "/shoes", "/search",
                                        "/api", "/static", "/media", "/fragments", "/webhooks", "/healthz", "/readyz",
                                        "/metrics", "/internal", "/__test", NULL};
    bool admin_ok = cfg.admin_path[0] == '/' && strlen(cfg.admin_path) >= 2 && strlen(cfg.admin_path) <= 100;
    for (const char *p = cfg.admin_path + 1; admin_ok && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            admin_ok = false;
    for (int i = 0; admin_ok && taken[i]; i++)
        if (!strcmp(cfg.admin_path, taken[i])) admin_ok = false;
    if (!admin_ok) {
        fprintf(stderr, "shoease: ADMIN_PATH must be one path segment like /staff-7Gq2vX9kLm3p (letters, digits, - and "
                        "_), not one of the shop's own paths\n");
        load_error = true;
    }
    return load_error ? -1 : 0;
}

int config_check_deploy(buf *out)
{
    if (!cfg.production) return 0;
    int problems = 0;
#define PROBLEM(...) do { problems++; if (out) { buf_printf(out, __VA_ARGS__); buf_putc(out, '\n'); } } while (0)
    if (!cfg.secret_key[0])
        PROBLEM("SECRET_KEY is missing: set a random value of at least %d characters", MIN_SECRET_LEN);
    else if (!strcmp(cfg.secret_key, EXAMPLE_SECRET) || strstr(cfg.secret_key, "change-me"))
        PROBLEM("SECRET_KEY is the example value from .env.example: generate a random one");
    else if (strlen(cfg.secret_key) < MIN_SECRET_LEN)
        PROBLEM("SECRET_KEY is too short (%zu characters, need at least %d)", strlen(cfg.secret_key), MIN_SECRET_LEN);
    if (cfg.debug) PROBLEM("DEBUG is on: set DEBUG=0 in production");
    if (cfg.n_allowed_hosts == 0) PROBLEM("ALLOWED_HOSTS is empty: list the host names this site answers to");
    if (!cfg.secure_cookies) PROBLEM("SECURE_COOKIES is off: cookies would travel over plain HTTP");
    if (!strcmp(cfg.admin_path, "/secure-admin-portal") || !strcmp(cfg.admin_path, "/admin"))
        PROBLEM("ADMIN_PATH is a well-known default: choose a secret path");
    else if (strlen(cfg.admin_path) < 17)
        PROBLEM("ADMIN_PATH is short enough to guess: use 16 or more random characters (openssl rand -hex 12)");
    if (!cfg.admin_require_2fa) PROBLEM("ADMIN_REQUIRE_2FA=0: staff must sign in with a second factor in production");
    if (!cfg.mariadb_password[0]) PROBLEM("MARIADB_PASSWORD is empty");
    if (!cfg.sandbox) PROBLEM("SANDBOX is off: workers would run without their seccomp filter");
    if (geteuid() == 0 && !cfg.run_as_user[0])
        PROBLEM("running as root without RUN_AS_USER: workers would serve with root privileges");
    if (cfg.test_hooks) PROBLEM("TEST_HOOKS is on: test-only routes must never be served in production");
    if (!strstr(cfg.queue_redis_url, "@"))
        PROBLEM("QUEUE_REDIS_URL has no password: the durable Redis holds sessions and jobs; use redis://:PASSWORD@host:port");
    if (!strcmp(cfg.sms_provider, "log"))
        PROBLEM("SMS_PROVIDER=log: one-time codes would only be written to a file; configure SMS_PROVIDER=http");
    if (!strcmp(cfg.sms_provider, "http") && (!cfg.sms_gateway_url[0] || strncmp(cfg.sms_gateway_url, "https://", 8)))
        PROBLEM("SMS_GATEWAY_URL must be an https:// address in production");
    if (!cfg.stripe_secret_key[0] || !cfg.stripe_webhook_secret[0])
        PROBLEM("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are needed for card payments");
    else if (strncmp(cfg.stripe_api_base, "https://", 8))
        PROBLEM("STRIPE_API_BASE must be an https:// address in production");
    if (cfg.smtp_username[0] && !strncmp(cfg.smtp_url, "smtp://", 7) && !cfg.smtp_starttls)
        PROBLEM("SMTP credentials over plain smtp:// without SMTP_STARTTLS=1 would travel unencrypted");
#undef PROBLEM
    return problems;
}

bool config_host_allowed(const char *host, size_t len)
{
    for (int i = 0; i < cfg.n_allowed_hosts; i++) {
        const char *pat = cfg.allowed_hosts[i];
        size_t pl = strlen(pat);
        if (pl == 1 && pat[0] == '*') return true;
        if (pat[0] == '.') {
            /* ".example.com" matches example.com and any subdomain */
            if (len == pl - 1 && !strncasecmp(host, pat + 1, len)) return true;
            if (len > pl && !strncasecmp(host + len - pl, pat, pl)) return true;
        } else if (len == pl && !strncasecmp(host, pat, len)) {
            return true;
        }
    }
    return false;
}
