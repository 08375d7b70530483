/* The header alone compiles warning-free as strict C99 (and, as header_cxx.cpp, as C++). */
#include "docdb.h"

int main(void) {
    docdb_options o = docdb_options_default();
    docdb_status st = DOCDB_OK;
    docdb_batch_op op = {DOCDB_BATCH_PUT, 1, NULL, 0};
    docdb_buf buf = {NULL, 0, 0};
    (void)op;
    (void)buf;
    return (int)st + (o.sync == DOCDB_SYNC_FULL ? 0 : 1);
}
