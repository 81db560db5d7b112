/* config.h — settings from .env plus environment overrides.
 *
 * Precedence (highest first): process environment, the env file
 * ($SHOEASE_ENV_FILE, default ./.env), built-in defaults. The one global
 * `cfg` is filled once by config_load() before any worker forks and is
 * read-only afterwards, so every process and thread may read it freely. */
#ifndef SHOEASE_CONFIG_H
#define SHOEASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_MAX_LIST 32

typedef struct config {
    /* mode and secrets */
    bool production;            /* SHOEASE_ENV=production */
    bool debug;                 /* DEBUG */
    char *secret_key;           /* SECRET_KEY */
    char *env_file;             /* the file we read (for messages) */

    /* HTTP edge */
    char *allowed_hosts[CFG_MAX_LIST];   /* ALLOWED_HOSTS, comma separated; ".x" = x and subdomains */
    int n_allowed_hosts;
    char *trusted_proxies[CFG_MAX_LIST]; /* TRUSTED_PROXIES: IPs, or "unix" for the unix socket */
    int n_trusted_proxies;
    char *binds[CFG_MAX_LIST];           /* BIND: "unix:/path" or "host:port", comma separated */
    int n_binds;
    int workers;                /* WORKERS (default: number of cores) */
    int worker_threads;         /* WORKER_THREADS: MHD threads per worker */
    int worker_timeout;         /* WORKER_TIMEOUT seconds: a request stuck longer kills its worker */
    int graceful_timeout;       /* GRACEFUL_TIMEOUT seconds to drain on SIGTERM/SIGHUP */
    int read_timeout;           /* READ_TIMEOUT seconds an idle/slow connection may live */
    size_t max_body_bytes;      /* MAX_BODY_BYTES */
    size_t max_header_bytes;    /* MAX_HEADER_BYTES */
    size_t upload_max_bytes;    /* UPLOAD_MAX_BYTES: the body of a route that takes file uploads (policy upload) */
    bool secure_cookies;        /* SECURE_COOKIES (default on) */
    int hsts_seconds;           /* HSTS_SECONDS */
    char *admin_path;           /* ADMIN_PATH: secret prefix of the admin portal */
    bool admin_require_2fa;     /* ADMIN_REQUIRE_2FA: staff must sign in with a second factor (production: always) */
    int admin_reauth_seconds;   /* ADMIN_REAUTH_SECONDS: how long a password proof covers dangerous actions (300) */
    bool sandbox;               /* SANDBOX: seccomp filter in serve workers (default on) */
    char *run_as_user;          /* RUN_AS_USER: workers started as root become this user */
    bool test_hooks;            /* TEST_HOOKS: /__test/ routes for the test stack (never production) */

    /* files */
    char *template_dir;         /* TEMPLATE_DIR */
    char *static_dir;           /* STATIC_DIR */
    char *migrations_dir;       /* MIGRATIONS_DIR */
    char *media_dir;            /* MEDIA_DIR: generated product images */
    char *access_log;           /* ACCESS_LOG: path, or "-" for stdout */

    /* stores */
    char *mariadb_host, *mariadb_socket, *mariadb_user, *mariadb_password, *mariadb_database;
    int mariadb_port;
    char *redis_host;
    int redis_port;
    char *redis_password;
    int redis_db;
    char *mongo_uri, *mongo_database;
    /* The durable Redis (job queues, event backlog; later sessions, rate
     * limits): QUEUE_REDIS_URL = redis://[:password@]host:port[/db] or
     * rediss://... (TLS, verified against QUEUE_REDIS_CA or the system CAs). */
    char *queue_redis_url;
    char *queue_redis_ca;
    char *smtp_url, *mail_from;
    char *smtp_username, *smtp_password;   /* SMTP_USERNAME / SMTP_PASSWORD: AUTH when set */
    bool smtp_starttls;                    /* SMTP_STARTTLS: require STARTTLS on smtp:// */
    char *smtp_ca_file;                    /* SMTP_CA_FILE: CA bundle for a private relay's certificate */

    /* SMS (src/notify/sms.c) */
    char *sms_provider;         /* SMS_PROVIDER: "log" (append to SMS_LOG_PATH) or "http" (a Twilio-style gateway) */
    char *sms_log_path;         /* SMS_LOG_PATH */
    char *sms_gateway_url;      /* SMS_GATEWAY_URL: the form POST endpoint */
    char *sms_account_sid, *sms_auth_token; /* SMS_ACCOUNT_SID / SMS_AUTH_TOKEN: HTTP basic auth */
    char *sms_from;             /* SMS_FROM: sender number or name */

    /* sessions and accounts (src/web/session.c, src/shop/accounts.c) */
    int session_idle_seconds;     /* SESSION_IDLE_SECONDS: a signed-in session unused this long ends (7 days) */
    int session_absolute_seconds; /* SESSION_ABSOLUTE_SECONDS: and any session ends this long after sign-in (30 days) */
    int staff_session_seconds;    /* STAFF_SESSION_SECONDS: idle and absolute limit of a staff session (8 h) */
    int password_ops;             /* PASSWORD_HASH_OPS */
    int password_mem_mb;          /* PASSWORD_HASH_MEM_MB */

    /* checkout (src/shop/pricing.c, payments.c) */
    int tax_standard_bp, tax_reduced_bp, tax_zero_bp; /* TAX_RATES: "standard=2000,reduced=500,zero=0" (basis points) */
    long long shipping_standard, shipping_express;    /* SHIPPING_STANDARD / SHIPPING_EXPRESS (minor units, VAT included) */
    long long free_shipping_over;                     /* FREE_SHIPPING_OVER: standard delivery is free from this subtotal (0: never) */
    int card_order_minutes;                           /* CARD_ORDER_MINUTES: an unpaid card order expires after this */
    int max_line_quantity;                            /* MAX_LINE_QUANTITY: per cart line (1-10) */
    char *stripe_api_base;                            /* STRIPE_API_BASE: https://api.stripe.com (stripe-mock in tests) */
    char *stripe_secret_key;                          /* STRIPE_SECRET_KEY: sk_live_... / sk_test_... */
    char *stripe_publishable_key;                     /* STRIPE_PUBLISHABLE_KEY: pk_... (the card page) */
    char *stripe_webhook_secret;                      /* STRIPE_WEBHOOK_SECRET: whsec_... */
    char *staff_alert_email;                          /* STAFF_ALERT_EMAIL: low-stock alerts ("" = none) */
    char *private_dir;                                /* PRIVATE_DIR: files served only after a check (invoices) */

    /* background jobs (src/jobs/) */
    int job_processes;          /* JOB_PROCESSES: `shoease worker` processes (default 2) */
    char *job_concurrency;      /* JOB_CONCURRENCY: "queue=threads,..." overrides of the queue table */
    char *job_rate_limits;      /* JOB_RATE_LIMITS: "queue=per_second,..." overrides of the queue table */
    int job_lease_ms;           /* JOB_LEASE_MS: a job whose worker stops renewing it is reclaimed after this */
    int outbox_resend_seconds;  /* OUTBOX_RESEND_SECONDS: an outbox row unfinished this long is sent again */

    /* events (src/events/) */
    bool activity_log;          /* ACTIVITY_LOG: every request into MongoDB's activity_logs */
    int activity_ttl_days;      /* ACTIVITY_TTL_DAYS: raw activity logs expire after this */
    int event_backlog_max;      /* EVENT_BACKLOG_MAX: events waiting in Redis before the oldest are dropped */

    /* shop */
    char *currency;             /* CURRENCY, ISO 4217 code, e.g. GBP */
    char *site_name;            /* SITE_NAME */
    char *public_url;           /* PUBLIC_URL, e.g. https://localhost:8443 */
} config;

extern config cfg;

/* Load defaults, the env file and the environment. Returns 0, or -1 after
 * printing what is wrong (unreadable file, bad number). */
int config_load(void);

/* Production readiness: appends one line per problem to `out` (may be NULL)
 * and returns the number of problems. In development it returns 0. */
struct buf;
int config_check_deploy(struct buf *out);

/* Is `host` (no port) allowed by ALLOWED_HOSTS? */
bool config_host_allowed(const char *host, size_t len);

/* Raw lookup of any key with the same precedence (returns NULL if unset). */
const char *config_get(const char *key);

#endif
