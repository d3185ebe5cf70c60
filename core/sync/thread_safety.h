// Clang's thread-safety analysis (-Wthread-safety, on for the kernel and its
// host builds): lock types are capabilities, data says which lock guards it,
// functions say which locks they need. A read or write of GUARDED_BY data
// without its lock, or a call to a REQUIRES function without the lock, is a
// compile error. Other compilers see nothing.
//
//     Spinlock g_lock { kPmmLockClass };
//     size_t g_free_pages GUARDED_BY(g_lock);
//     void take_page() REQUIRES(g_lock);
#pragma once

#if defined(__clang__)
#define KEEL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KEEL_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(name) KEEL_THREAD_ANNOTATION(capability(name))
#define SCOPED_CAPABILITY KEEL_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(lock) KEEL_THREAD_ANNOTATION(guarded_by(lock))
#define PT_GUARDED_BY(lock) KEEL_THREAD_ANNOTATION(pt_guarded_by(lock))
#define REQUIRES(...) KEEL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) KEEL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) KEEL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) KEEL_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) KEEL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(lock) KEEL_THREAD_ANNOTATION(assert_capability(lock))
#define RETURN_CAPABILITY(lock) KEEL_THREAD_ANNOTATION(lock_returned(lock))
// For the few functions whose locking the analysis cannot follow (a lock
// taken in one function and released in another); each use says why.
#define NO_THREAD_SAFETY_ANALYSIS KEEL_THREAD_ANNOTATION(no_thread_safety_analysis)
