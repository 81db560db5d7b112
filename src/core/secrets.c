/* secrets.c — see secrets.h. */
#include "core/secrets.h"

#include "core/config.h"

#include <sodium.h>
#include <string.h>

void secret_subkey(const char *purpose, unsigned char out[SECRET_KEY_BYTES])
{
    /* BLAKE2b keyed with (a hash of) SECRET_KEY over the purpose: a key per
     * purpose, none revealing another or the master */
    unsigned char master[crypto_generichash_KEYBYTES];
    const char *sk = cfg.secret_key ? cfg.secret_key : "";
    crypto_generichash(master, sizeof master, (const unsigned char *)sk, strlen(sk), NULL, 0);
    crypto_generichash(out, SECRET_KEY_BYTES, (const unsigned char *)purpose, strlen(purpose), master, sizeof master);
    sodium_memzero(master, sizeof master);
}

void secret_hash_hex(const char *purpose, const void *data, size_t len, char out[SECRET_HASH_HEX])
{
    unsigned char key[SECRET_KEY_BYTES], h[32];
    secret_subkey(purpose, key);
    crypto_generichash(h, sizeof h, data, len, key, sizeof key);
    sodium_bin2hex(out, SECRET_HASH_HEX, h, sizeof h);
    sodium_memzero(key, sizeof key);
}

void secret_random_token(char *out, size_t outlen)
{
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(out, outlen, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

long secret_seal(const char *purpose, const unsigned char *plain, size_t len, unsigned char *out, size_t outlen)
{
    if (outlen < len + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return -1;
    unsigned char key[SECRET_KEY_BYTES];
    secret_subkey(purpose, key);
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len, out, key);
    sodium_memzero(key, sizeof key);
    return (long)(len + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES);
}

long secret_open(const char *purpose, const unsigned char *sealed, size_t len, unsigned char *out, size_t outlen)
{
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return -1;
    size_t plain = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (outlen < plain) return -1;
    unsigned char key[SECRET_KEY_BYTES];
    secret_subkey(purpose, key);
    int rc = crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES, len - crypto_secretbox_NONCEBYTES,
                                        sealed, key);
    sodium_memzero(key, sizeof key);
    return rc == 0 ? (long)plain : -1;
}

bool secret_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (strlen(b) != n) return false;
    return sodium_memcmp(a, b, n) == 0;
}
