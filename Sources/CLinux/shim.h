// Linux headers that Glibc's Swift module does not export (xattr, mallopt).
#include <sys/types.h>
#include <sys/xattr.h>
#include <malloc.h>
