// Error codes: Linux's errno numbers, so they map straight onto the
// Linux-compatible syscall layer and match what module authors know.
#pragma once

// Hosted builds (unit tests) also see the C library's errno macros, which
// would turn `Error::ENOMEM` into `Error::12`. Include them once here and
// take the colliding names away, so inclusion order does not matter; host
// code that includes this header uses keel::Error instead of the macros.
#if __STDC_HOSTED__
#include <errno.h>
#undef EPERM
#undef ENOENT
#undef ESRCH
#undef EINTR
#undef EIO
#undef ENXIO
#undef E2BIG
#undef ENOEXEC
#undef EBADF
#undef EAGAIN
#undef ENOMEM
#undef EACCES
#undef EFAULT
#undef EBUSY
#undef EEXIST
#undef EXDEV
#undef ENODEV
#undef ENOTDIR
#undef EISDIR
#undef EINVAL
#undef ENFILE
#undef EMFILE
#undef EFBIG
#undef ENOSPC
#undef ESPIPE
#undef EROFS
#undef EMLINK
#undef ERANGE
#undef EDEADLK
#undef ENAMETOOLONG
#undef ENOSYS
#undef ENOTEMPTY
#undef ELOOP
#undef ENOKEY
#undef EKEYEXPIRED
#undef EKEYREVOKED
#undef EKEYREJECTED
#undef ENODATA
#undef ETIME
#undef EBADMSG
#undef EOVERFLOW
#undef EILSEQ
#undef ENOTSUP
#undef ETIMEDOUT
#endif

namespace keel {

enum class Error : int {
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    EFBIG = 27,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    EMLINK = 31,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    ENOKEY = 126,
    EKEYEXPIRED = 127,
    EKEYREVOKED = 128,
    EKEYREJECTED = 129,
    ENODATA = 61,
    ETIME = 62,
    EBADMSG = 74,
    EOVERFLOW = 75,
    EILSEQ = 84,
    ENOTSUP = 95,
    ETIMEDOUT = 110,
};

// "ENOMEM", "EINVAL", ...; "E?" for a code without a name.
const char* error_name(Error error);

} // namespace keel
