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

#include <spawn.h>
// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, declared only under _GNU_SOURCE:
// the child closes every descriptor from `from` on.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *, int);
static inline int lifeboat_spawn_close_from(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, from);
}
