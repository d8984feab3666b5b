// Linux headers that Glibc's Swift module does not export (xattr, mallopt, memfd).
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <malloc.h>

// memfd_create(2) without _GNU_SOURCE: an anonymous file that needs no folder.
static inline int lifeboat_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);
}
