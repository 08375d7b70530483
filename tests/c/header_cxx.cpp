// The header compiles warning-free as C++ and links through its extern "C" guards.
#include "docdb.h"

#include <cstdio>
#include <cstring>

int main() {
    docdb_options o = docdb_options_default();
    const char *name = docdb_status_str(DOCDB_NOT_FOUND);
    std::printf("C++: docdb %s, status 1 is %s\n", docdb_version(), name);
    return (std::strcmp(name, "NOT_FOUND") == 0 && o.sync == DOCDB_SYNC_FULL) ? 0 : 1;
}
