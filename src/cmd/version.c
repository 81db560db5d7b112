/* version.c — `shoease version`: our version and the libraries we run on. */
#include "cmd/cmd.h"

#include "version.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <microhttpd.h>
#include <mongoc/mongoc.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>

int cmd_version(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("shoease %s\n", SHOEASE_VERSION);
    printf("libmicrohttpd %s, libmariadb %s, hiredis %d.%d.%d, libmongoc %s, jansson %s, libsodium %s\n",
           MHD_get_version(), mysql_get_client_info(), HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH,
           mongoc_get_version(), JANSSON_VERSION, sodium_version_string());
    return 0;
}
